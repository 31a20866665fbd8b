/// Which loaded model object serves which model id, as a value type without I/O.
///
/// Jobs carry the id of the model that scores them (`claim_jobs` resolves a job queued without a
/// model to the model active at claim time), so a hot swap is simply a new id appearing: batches
/// already scoring keep the model they pinned, the newly active model is loaded ahead of its first
/// job, and a model that is neither active nor pinned is evicted once the cache is over capacity or
/// the model left the registry. Nothing in flight is dropped.
public struct ModelCache<Model: Sendable>: Sendable {
    /// What the cache knows about one model id.
    public enum Lookup: Sendable {
        case ready(Model)
        /// The model could not be loaded; jobs for it fail with this error.
        case failed(String)
        case missing
    }

    /// Work for the driver.
    public enum Action: Sendable, Hashable {
        /// Load the model's ONNX from `galaxy.models` and report `loaded` or `loadFailed`.
        case load(Int64)
        /// Load a pending model and report `model_validated` / `model_rejected`, then `validated`
        /// or `rejected` here.
        case validate(Int64)
        /// The model object was dropped from the cache (for logs; nothing to do).
        case evicted(Int64)
    }

    private struct Entry: Sendable {
        var model: Model
        var pins = 0
        var lastUse: UInt64
    }

    private var entries: [Int64: Entry] = [:]
    private var failures: [Int64: String] = [:]
    private var validating: Set<Int64> = []
    private var retired: Set<Int64> = []
    private var useClock: UInt64 = 0

    /// The model id that jobs queued without a model resolve to, as last read from the registry.
    public private(set) var activeModelID: Int64?
    /// How many models stay loaded when not in use (the active one always stays).
    public let capacity: Int

    public init(capacity: Int = 3) {
        precondition(capacity >= 1, "the model cache holds at least the active model")
        self.capacity = capacity
    }

    /// The ids of loaded models.
    public var loadedModelIDs: Set<Int64> { Set(entries.keys) }

    /// What serves `modelID` now.
    public func lookup(_ modelID: Int64) -> Lookup {
        if let entry = entries[modelID] { return .ready(entry.model) }
        if let error = failures[modelID] { return .failed(error) }
        return .missing
    }

    /// The models among `modelIDs` that must be loaded before a batch can be scored.
    public func missing(_ modelIDs: some Sequence<Int64>) -> [Int64] {
        Set(modelIDs).filter { entries[$0] == nil && failures[$0] == nil }.sorted()
    }

    /// A model was loaded. Returns evictions.
    public mutating func loaded(_ modelID: Int64, model: Model) -> [Action] {
        failures[modelID] = nil
        useClock += 1
        entries[modelID] = Entry(model: model, lastUse: useClock)
        return evictOverCapacity()
    }

    /// A model could not be loaded (its ONNX is invalid, or it left the registry): jobs that need
    /// it fail with `error` until the registry changes.
    public mutating func loadFailed(_ modelID: Int64, error: String) {
        failures[modelID] = error
    }

    /// Marks models as used by a batch being scored: they are not evicted until `unpin`.
    public mutating func pin(_ modelIDs: some Sequence<Int64>) {
        useClock += 1
        for id in Set(modelIDs) where entries[id] != nil {
            entries[id]!.pins += 1
            entries[id]!.lastUse = useClock
        }
    }

    /// The batch that pinned these models is done. Returns evictions.
    public mutating func unpin(_ modelIDs: some Sequence<Int64>) -> [Action] {
        for id in Set(modelIDs) where entries[id] != nil {
            entries[id]!.pins = max(0, entries[id]!.pins - 1)
        }
        return evictOverCapacity()
    }

    /// The registry as read at start or after a `galaxy_models` notification.
    /// - Parameters:
    ///   - activeModelID: the active model, if any.
    ///   - pendingModelIDs: models added but not yet validated by a daemon.
    ///   - knownModelIDs: every model still in the registry (removed models are evicted).
    /// - Returns: validations to run, the newly active model to preload, and evictions.
    public mutating func registryChanged(
        activeModelID: Int64?, pendingModelIDs: [Int64], knownModelIDs: Set<Int64>
    ) -> [Action] {
        var actions: [Action] = []
        for id in pendingModelIDs.sorted() where !validating.contains(id) {
            validating.insert(id)
            actions.append(.validate(id))
        }
        self.activeModelID = activeModelID
        if let active = activeModelID, entries[active] == nil, failures[active] == nil,
            !validating.contains(active)
        {
            actions.append(.load(active))
        }
        for id in failures.keys where !knownModelIDs.contains(id) { failures[id] = nil }
        retired = Set(entries.keys).subtracting(knownModelIDs)
        actions += evictOverCapacity()
        return actions
    }

    /// A pending model loaded: the driver called `model_validated`. Keeping the loaded object
    /// saves a second load when it is activated.
    public mutating func validated(_ modelID: Int64, model: Model) -> [Action] {
        validating.remove(modelID)
        return loaded(modelID, model: model)
    }

    /// A pending model failed to load: the driver called `model_rejected` with `error`.
    public mutating func rejected(_ modelID: Int64, error: String) {
        validating.remove(modelID)
        failures[modelID] = error
    }

    /// The validation could not be reported (the database went away): validate again later.
    public mutating func validationInterrupted(_ modelID: Int64) {
        validating.remove(modelID)
    }

    private mutating func evictOverCapacity() -> [Action] {
        var evicted: [Int64] = []
        // Models that left the registry go as soon as no batch uses them.
        for id in retired where entries[id]?.pins == 0 {
            entries[id] = nil
            retired.remove(id)
            evicted.append(id)
        }
        // Then the least recently used idle models beyond capacity; never the active one.
        let idle = entries.filter { $0.value.pins == 0 && $0.key != activeModelID }
            .sorted { $0.value.lastUse < $1.value.lastUse }
        var excess = entries.count - capacity
        for (id, _) in idle where excess > 0 {
            entries[id] = nil
            evicted.append(id)
            excess -= 1
        }
        return evicted.sorted().map(Action.evicted)
    }
}
