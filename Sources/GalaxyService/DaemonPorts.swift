import GalaxyStore

/// The daemon's view of PostgreSQL: the protocol functions of docs/architecture.md, one call each.
/// `PostgresDaemonDatabase` implements it over GalaxyPostgres; tests may use a fake. Every method
/// blocks and runs on the daemon's own thread; any thrown error means "reconnect".
public protocol DaemonDatabase: AnyObject {
    /// Checks the schema, upserts the daemon (`daemon_register`) and LISTENs on `galaxy_jobs` and
    /// `galaxy_models` unless `listen` is false.
    func register(daemon: String, host: String, pid: Int, version: String, listen: Bool) throws
    /// `daemon_heartbeat`.
    func heartbeat(daemon: String) throws
    /// `release_jobs`: gives back every lease this daemon holds.
    func releaseJobs(daemon: String) throws
    /// `daemon_stopped`.
    func markStopped(daemon: String) throws
    /// `claim_jobs`.
    func claimJobs(daemon: String, maxJobs: Int, leaseSeconds: Double) throws -> [ClaimedJob]
    /// `complete_jobs` (once per model, with that model's preprocessing) and `fail_jobs` (with
    /// each failure's code and retry decision), all in one transaction.
    /// `preprocessing` maps each model id of the completions to its preprocessing JSON.
    func commit(daemon: String, batch: BatchResult, preprocessing: [Int64: String]) throws -> CommitReceipt
    /// Waits on the connection's socket up to `timeoutSeconds` (0 = just drain) and returns the
    /// channels notified meanwhile.
    func waitForNotifications(timeoutSeconds: Double) throws -> Set<String>
    /// The active model, the pending ones and every model id in the registry.
    func registry() throws -> RegistrySnapshot
    /// A model's ONNX bytes, name and sha256 (hex); nil when the model is gone.
    func model(id: Int64) throws -> StoredModel?
    /// `model_validated`.
    func modelValidated(id: Int64, validated: ValidatedModel) throws
    /// `model_rejected`.
    func modelRejected(id: Int64, error: String) throws
    /// Jobs in the queue now (for the queue-depth gauge).
    func queueDepth() throws -> Int
}

/// A model ready to score: decodes, preprocesses and infers a batch on all cores.
public protocol ScoringModel: Sendable {
    /// One outcome per JPEG, in order; a bad image fails only itself. `imageIDs` name the images
    /// in error messages.
    func score(jpegs: [[UInt8]], imageIDs: [Int64]) -> [JobOutcome]
    /// The preprocessing parameters recorded with every prediction (a JSON object).
    var preprocessingJSON: String { get }
    /// The metadata recorded by `model_validated` (a JSON object).
    var metadataJSON: String { get }
    /// The model's low-level labels, in output order.
    var labels: [String] { get }
    /// The arithmetic of its convolutions, for the log (`fp32`, or `bf16 native|emulated`).
    var arithmetic: String { get }
}

extension ScoringModel {
    public var arithmetic: String { "fp32" }
}

/// Turns ONNX bytes into a `ScoringModel`; the thrown error's description is recorded as the
/// model's rejection reason.
public protocol ScoringModelLoader: Sendable {
    func load(onnx: [UInt8], threads: Int) throws -> any ScoringModel
}

/// An error that retrying cannot fix (the schema is missing, the role lacks privileges, the
/// password is wrong): the daemon stops and reports it instead of reconnecting forever.
public protocol DaemonFatalError: Error, CustomStringConvertible {}
