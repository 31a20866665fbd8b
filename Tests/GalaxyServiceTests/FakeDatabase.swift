import Foundation
import GalaxyService

/// An in-memory stand-in for the daemon protocol (queue with leases, models, predictions), so the
/// daemon's driver is tested without PostgreSQL. The real functions are tested in the integration
/// suites.
final class FakeServer: @unchecked Sendable {
    struct Job {
        var id: Int64
        var imageID: Int64
        var modelID: Int64?
        var attempts = 0
        var maxAttempts = 2
        var leaseOwner: String?
        var runAfter = Date.distantPast
        var jpeg: [UInt8]
    }

    struct Model {
        var name: String
        var onnx: [UInt8]
        var status = "pending"
        var active = false
        var error: String?
    }

    private let lock = NSLock()
    private var jobs: [Int64: Job] = [:]
    private var nextJobID: Int64 = 1
    private(set) var models: [Int64: Model] = [:]
    /// (image, model) -> label and how many times it was written.
    private(set) var predictions: [String: (label: String, writes: Int)] = [:]
    private(set) var failedJobs: [Int64: JobError] = [:]
    private(set) var stoppedDaemons: Set<String> = []
    private var notifications: Set<String> = []
    var isDown = false
    /// Runs inside every commit, outside the server's lock (to slow commits down or log them).
    var commitHook: (@Sendable (BatchResult) -> Void)?

    func locked<T>(_ body: (FakeServer) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(self)
    }

    func enqueue(image: Int64, jpeg: [UInt8], model: Int64? = nil) {
        locked { s in
            s.jobs[s.nextJobID] = Job(id: s.nextJobID, imageID: image, modelID: model, jpeg: jpeg)
            s.nextJobID += 1
            s.notifications.insert("galaxy_jobs")
        }
    }

    func addModel(id: Int64, name: String, onnx: String, status: String = "pending", active: Bool = false) {
        locked { s in
            s.models[id] = Model(name: name, onnx: Array(onnx.utf8), status: status, active: active)
            s.notifications.insert("galaxy_models")
        }
    }

    func activate(_ id: Int64) {
        locked { s in
            for key in s.models.keys { s.models[key]!.active = key == id }
            s.notifications.insert("galaxy_models")
        }
    }

    var queueIsEmpty: Bool { locked { $0.jobs.isEmpty } }
    /// Queued jobs, and how many of them some daemon leases.
    var queued: (jobs: Int, leased: Int) {
        locked { s in (s.jobs.count, s.jobs.values.filter { $0.leaseOwner != nil }.count) }
    }
    func prediction(image: Int64, model: Int64) -> (label: String, writes: Int)? {
        locked { $0.predictions["\(image)/\(model)"] }
    }

    fileprivate func check() throws {
        if isDown { throw FakeOutage() }
    }

    // The protocol, as the SQL functions implement it.
    fileprivate func claim(_ daemon: String, _ max: Int) -> [ClaimedJob] {
        let now = Date()
        let active = models.first { $0.value.active }?.key
        var out: [ClaimedJob] = []
        for id in jobs.keys.sorted() where out.count < max {
            var job = jobs[id]!
            guard job.leaseOwner == nil, job.runAfter <= now, let model = job.modelID ?? active else {
                continue
            }
            job.leaseOwner = daemon
            job.attempts += 1
            jobs[id] = job
            out.append(
                ClaimedJob(
                    jobID: id, imageID: job.imageID, modelID: model, attempt: job.attempts, jpeg: job.jpeg))
        }
        return out
    }

    fileprivate func commit(_ daemon: String, _ batch: BatchResult) -> CommitReceipt {
        var completed: [Int64] = []
        for c in batch.completions where jobs[c.jobID]?.leaseOwner == daemon {
            let key = "\(jobs[c.jobID]!.imageID)/\(c.modelID)"
            predictions[key] = (c.score.label, (predictions[key]?.writes ?? 0) + 1)
            jobs[c.jobID] = nil
            completed.append(c.jobID)
        }
        var failedForGood: [Int64] = []
        for f in batch.failures where jobs[f.jobID]?.leaseOwner == daemon {
            if f.retryAfterSeconds == nil || jobs[f.jobID]!.attempts >= jobs[f.jobID]!.maxAttempts {
                failedJobs[f.jobID] = f.error
                jobs[f.jobID] = nil
                failedForGood.append(f.jobID)
            } else {
                jobs[f.jobID]!.leaseOwner = nil
            }
        }
        return CommitReceipt(completed: completed, failedForGood: failedForGood)
    }

    fileprivate func release(_ daemon: String) {
        for id in jobs.keys where jobs[id]!.leaseOwner == daemon { jobs[id]!.leaseOwner = nil }
    }

    fileprivate func markStopped(_ daemon: String) { stoppedDaemons.insert(daemon) }
    fileprivate func takeNotifications() -> Set<String> {
        defer { notifications = [] }
        return notifications
    }
}

struct FakeOutage: Error, CustomStringConvertible {
    var description: String { "server closed the connection unexpectedly" }
}

/// One "connection" to a `FakeServer`.
final class FakeDatabase: DaemonDatabase {
    let server: FakeServer
    init(server: FakeServer) throws {
        self.server = server
        try server.locked { try $0.check() }
    }

    private func call<T>(_ body: (FakeServer) -> T) throws -> T {
        try server.locked { s in
            try s.check()
            return body(s)
        }
    }

    func register(daemon: String, host: String, pid: Int, version: String, listen: Bool) throws {
        try call { _ in }
    }
    func heartbeat(daemon: String) throws { try call { _ in } }
    func releaseJobs(daemon: String) throws { try call { $0.release(daemon) } }
    func markStopped(daemon: String) throws { try call { $0.markStopped(daemon) } }
    func claimJobs(daemon: String, maxJobs: Int, leaseSeconds: Double) throws -> [ClaimedJob] {
        try call { $0.claim(daemon, maxJobs) }
    }
    func commit(daemon: String, batch: BatchResult, preprocessing: [Int64: String]) throws -> CommitReceipt {
        if let hook = server.locked({ $0.commitHook }) { hook(batch) }
        return try call { $0.commit(daemon, batch) }
    }
    func waitForNotifications(timeoutSeconds: Double) throws -> Set<String> {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            let got = try call { $0.takeNotifications() }
            if !got.isEmpty || Date() >= deadline { return got }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }
    func registry() throws -> RegistrySnapshot {
        try call { s in
            RegistrySnapshot(
                activeModelID: s.models.first { $0.value.active }?.key,
                pendingModelIDs: s.models.filter { $0.value.status == "pending" }.map(\.key),
                knownModelIDs: Set(s.models.keys))
        }
    }
    func model(id: Int64) throws -> StoredModel? {
        try call { s in s.models[id].map { StoredModel(id: id, name: $0.name, sha256: "00", onnx: $0.onnx) } }
    }
    func modelValidated(id: Int64, validated: ValidatedModel) throws {
        try call { $0.setStatus(id, "ready", nil) }
    }
    func modelRejected(id: Int64, error: String) throws { try call { $0.setStatus(id, "rejected", error) } }
    func queueDepth() throws -> Int { try call { s in s.queueIsEmptyUnlocked ? 0 : 1 } }
}

extension FakeServer {
    fileprivate func setStatus(_ id: Int64, _ status: String, _ error: String?) {
        models[id]?.status = status
        models[id]?.error = error
    }
    fileprivate var queueIsEmptyUnlocked: Bool { jobs.isEmpty }
}

/// Models whose "ONNX" is a label name: every valid JPEG scores as that label. "bad..." fails to load.
struct FakeLoader: ScoringModelLoader {
    struct LoadFailure: Error, CustomStringConvertible {
        var description: String {
            "model error (invalidGraph): node 'conv1' reads 'x9' that nothing produces"
        }
    }

    struct Model: ScoringModel {
        var label: String
        func score(jpegs: [[UInt8]], imageIDs: [Int64]) -> [JobOutcome] {
            zip(jpegs, imageIDs).map { jpeg, id in
                guard jpeg.starts(with: [0xFF, 0xD8]) else {
                    return .failed(JobError(.notJPEG, "decode image \(id): not a JPEG file"))
                }
                return .scored(
                    JobScore(
                        label: label, galaxyClass: "Spiral", probabilities: [label: 1], latencyMilliseconds: 1
                    ))
            }
        }
        var preprocessingJSON: String { "{}" }
        var metadataJSON: String { "{}" }
        var labels: [String] { [label] }
    }

    func load(onnx: [UInt8], threads: Int) throws -> any ScoringModel {
        let text = String(decoding: onnx, as: UTF8.self)
        if text.hasPrefix("bad") { throw LoadFailure() }
        return Model(label: text)
    }
}
