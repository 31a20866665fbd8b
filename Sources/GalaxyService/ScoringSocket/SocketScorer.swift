import Foundation
import GalaxyStore
import Logging

/// Scores the scoring socket's requests on one thread, in micro-batches: whatever arrived while
/// the previous batch scored goes into the next one (up to `maxBatch`), so one backend gets its
/// answer at once and many backends share batches. Models are loaded by the id the backend
/// resolved, checked against its sha256, and kept (the most recently used `capacity` of them).
public final class SocketScorer: @unchecked Sendable {
    /// Reads a model's ONNX bytes by id (nil: not in `galaxy.models` as the daemon sees it).
    public typealias ModelSource = @Sendable (Int64) throws -> StoredModel?

    /// One image of a request; `collector` answers the request once all its images are scored.
    private struct Pending {
        var request: ScoringFrames.Request
        var index: Int
        var arrived: UInt64
        var collector: Collector
        var jpeg: [UInt8] { request.jpegs[index] }
    }

    /// Gathers the replies of one request's images and hands them over when the last arrives.
    private final class Collector: @unchecked Sendable {
        private let lock = NSLock()
        private var replies: [ScoringFrames.Reply?]
        private var missing: Int
        private let done: @Sendable ([ScoringFrames.Reply]) -> Void

        init(count: Int, done: @escaping @Sendable ([ScoringFrames.Reply]) -> Void) {
            replies = Array(repeating: nil, count: count)
            missing = count
            self.done = done
        }

        func set(_ index: Int, _ reply: ScoringFrames.Reply) {
            let complete: [ScoringFrames.Reply]? = lock.withLock {
                replies[index] = reply
                missing -= 1
                return missing == 0 ? replies.map { $0! } : nil
            }
            if let complete { done(complete) }
        }
    }

    private struct Loaded {
        var sha256: String
        var name: String
        var model: any ScoringModel
        var lastUse: UInt64
    }

    private enum ModelLookup {
        case ready(Loaded)
        /// The reply every request for the model gets.
        case refused(ScoringFrames.Reply)
    }

    private let condition = NSCondition()
    private var pending: [Pending] = []
    private var stopping = false
    private var finished = false
    private var models: [Int64: Loaded] = [:]
    private var useClock: UInt64 = 0

    private let source: ModelSource
    private let loader: any ScoringModelLoader
    private let threads: Int
    private let maxBatch: Int
    private let capacity: Int
    private let logger: Logger

    public init(
        source: @escaping ModelSource, loader: any ScoringModelLoader, threads: Int, maxBatch: Int = 64,
        capacity: Int = 3, logger: Logger
    ) {
        self.source = source
        self.loader = loader
        self.threads = threads
        self.maxBatch = maxBatch
        self.capacity = capacity
        self.logger = logger
    }

    /// Queues a request's images; `reply` is called once with one reply per image, in order, from
    /// the scoring thread.
    public func submit(
        _ request: ScoringFrames.Request, reply: @escaping @Sendable ([ScoringFrames.Reply]) -> Void
    ) {
        let collector = Collector(count: request.jpegs.count, done: reply)
        let arrived = DispatchTime.now().uptimeNanoseconds
        condition.lock()
        if stopping {
            condition.unlock()
            for index in request.jpegs.indices { collector.set(index, Self.stoppingReply) }
            return
        }
        for index in request.jpegs.indices {
            pending.append(Pending(request: request, index: index, arrived: arrived, collector: collector))
        }
        condition.signal()
        condition.unlock()
    }

    /// Scores until `stop()`; requests queued before it are still answered.
    public func run() {
        while let batch = nextBatch() { score(batch) }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Lets `run()` return once the queued requests are answered; later requests are refused.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until `run()` returned.
    public func waitUntilFinished() {
        condition.lock()
        while !finished { condition.wait() }
        condition.unlock()
    }

    static let stoppingReply = ScoringFrames.Reply.failed(
        code: "daemon_stopping", message: "the scoring daemon is shutting down",
        hint: "Call again once galaxy serve --scoring-socket runs again; nothing was stored.")

    private func nextBatch() -> [Pending]? {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty && !stopping { condition.wait() }
        if pending.isEmpty { return nil }
        let count = min(maxBatch, pending.count)
        let batch = Array(pending.prefix(count))
        pending.removeFirst(count)
        return batch
    }

    private func score(_ batch: [Pending]) {
        let start = DispatchTime.now().uptimeNanoseconds
        for (_, group) in Dictionary(grouping: batch, by: { $0.request.modelID }).sorted(by: { $0.key < $1.key }) {
            switch model(for: group[0].request) {
            case .refused(let reply):
                for item in group { item.collector.set(item.index, reply) }
            case .ready(let loaded):
                let outcomes = loaded.model.score(
                    jpegs: group.map(\.jpeg), imageIDs: Array(repeating: 0, count: group.count))
                let scoreMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                for (item, outcome) in zip(group, outcomes) {
                    item.collector.set(
                        item.index,
                        reply(outcome, item: item, loaded: loaded, batchSize: batch.count, started: start,
                              scoreMilliseconds: scoreMilliseconds))
                }
            }
        }
    }

    private func reply(
        _ outcome: JobOutcome, item: Pending, loaded: Loaded, batchSize: Int, started: UInt64, scoreMilliseconds: Double
    ) -> ScoringFrames.Reply {
        switch outcome {
        case .scored(let score):
            let queued = Double(started &- item.arrived) / 1e6
            let timings = JSONText.object(encoded: [
                "queued_ms": JSONText.number(max(0, queued)), "batch_ms": JSONText.number(scoreMilliseconds),
                "batch_size": String(batchSize),
            ])
            return .scored(
                label: score.label, galaxyClass: score.galaxyClass,
                probabilitiesJSON: JSONText.object(score.probabilities), model: loaded.name,
                modelSHA256: loaded.sha256, preprocessingJSON: loaded.model.preprocessingJSON, timingsJSON: timings)
        case .failed(let error):
            // Bytes sent over the socket have no image id: the scorer numbers them 0.
            let message = error.message.replacingOccurrences(of: "decode image 0: ", with: "cannot decode the JPEG: ")
            return .failed(
                code: error.code.rawValue, message: message,
                hint: "Check the bytes: galaxy.classify takes one whole baseline or progressive 8-bit JPEG.")
        }
    }

    /// The loaded model for a request, loading it when needed; an error reply when it cannot be.
    private func model(for request: ScoringFrames.Request) -> ModelLookup {
        useClock += 1
        if var loaded = models[request.modelID], loaded.sha256 == request.modelSHA256 {
            loaded.lastUse = useClock
            models[request.modelID] = loaded
            return .ready(loaded)
        }
        let stored: StoredModel?
        do {
            stored = try source(request.modelID)
        } catch {
            logger.warning(
                "scoring socket could not read a model", metadata: [LogKey.modelID: "\(request.modelID)", LogKey.error: "\(error)"])
            return .refused(
                .failed(
                    code: JobError.Code.modelUnusable.rawValue,
                    message: "the daemon could not read model \(request.modelID) (\"\(request.modelName)\"): \(error)",
                    hint: "Check the daemon's log and its database connection; call again."))
        }
        guard let stored, stored.sha256 == request.modelSHA256 else {
            return .refused(
                .failed(
                    code: JobError.Code.modelMissing.rawValue,
                    message: "model \(request.modelID) (\"\(request.modelName)\") with sha256 \(request.modelSHA256.prefix(12))… is not in galaxy.models as the daemon sees it",
                    hint: "A model added in a transaction that has not committed is scored through the socket only after COMMIT."))
        }
        do {
            let model = try loader.load(onnx: stored.onnx, threads: threads)
            let loaded = Loaded(sha256: stored.sha256, name: stored.name, model: model, lastUse: useClock)
            models[request.modelID] = loaded
            evictOverCapacity(keeping: request.modelID)
            logger.info("scoring socket loaded a model", metadata: [LogKey.modelID: "\(stored.id)", LogKey.modelName: "\(stored.name)"])
            return .ready(loaded)
        } catch {
            return .refused(
                .failed(
                    code: JobError.Code.modelUnusable.rawValue,
                    message: "model \"\(stored.name)\" cannot be loaded: \(error)",
                    hint: "Activate or name another model; see select * from galaxy.model_list."))
        }
    }

    private func evictOverCapacity(keeping kept: Int64) {
        while models.count > capacity {
            guard let oldest = models.filter({ $0.key != kept }).min(by: { $0.value.lastUse < $1.value.lastUse })
            else { return }
            models[oldest.key] = nil
        }
    }
}
