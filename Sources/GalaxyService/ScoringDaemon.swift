import Foundation
import GalaxyCore
import Logging

/// The scoring daemon: performs the actions of `ScoringStateMachine` against PostgreSQL and the
/// engine, on one dedicated thread (libpq and the engine block; Swift's cooperative pool is never
/// used). Scoring itself fans out over the engine's worker threads.
public final class ScoringDaemon: @unchecked Sendable {
    /// The daemon's version, recorded by `daemon_register`.
    public static let version = "0.1.0"

    private let config: DaemonConfig
    private let connect: () throws -> any DaemonDatabase
    private let loader: any ScoringModelLoader
    private let logger: Logger
    /// The daemon's metrics (serve them with `prometheusText()`).
    public let metrics: ServiceMetrics

    private let stopLock = NSLock()
    private var stopRequested = false

    private var machine: ScoringStateMachine
    private var cache = ModelCache<any ScoringModel>()
    private var storedModels: [Int64: StoredModel] = [:]
    private var database: (any DaemonDatabase)?
    private var nextHeartbeat = Date.distantPast
    private var nextPoll = Date.distantPast
    private var connectedOnce = false

    /// - Parameters:
    ///   - config: settings (`DaemonConfig.resolve`).
    ///   - connect: opens a new connection; called at start and after every failure.
    ///   - loader: loads ONNX models (the engine).
    ///   - logger: where structured log lines go.
    ///   - metrics: the registry to count into.
    public init(
        config: DaemonConfig, connect: @escaping () throws -> any DaemonDatabase,
        loader: any ScoringModelLoader, logger: Logger, metrics: ServiceMetrics = ServiceMetrics()
    ) {
        self.config = config
        self.connect = connect
        self.loader = loader
        var logger = logger
        logger[metadataKey: LogKey.daemon] = "\(config.name)"
        self.logger = logger
        self.metrics = metrics
        self.machine = ScoringStateMachine(batchSize: config.batchSize, retryPolicy: config.retryPolicy)
    }

    /// Asks the daemon to stop: the in-flight batch is finished and committed, leases are given
    /// back and the daemon is marked stopped. Safe from any thread (a signal handler's queue).
    public func requestShutdown() {
        stopLock.lock()
        stopRequested = true
        stopLock.unlock()
    }

    private var shouldStop: Bool {
        stopLock.lock()
        defer { stopLock.unlock() }
        return stopRequested
    }

    private var fatal: (any DaemonFatalError)?

    /// Runs until stopped. Blocks the calling thread: call it from a dedicated thread.
    /// - Throws: a `DaemonFatalError` (missing schema, refused role) that retrying cannot fix.
    public func run() throws {
        logger.info(
            "daemon starting",
            metadata: [
                "threads": "\(config.threads)", "batch_size": "\(config.batchSize)",
                "poll_only": "\(config.pollOnly)", "lease_seconds": "\(config.leaseSeconds)",
            ])
        var action: ScoringStateMachine.Action? = machine.start()
        var shutdownSeen = false
        while let current = action {
            if !shutdownSeen && shouldStop {
                shutdownSeen = true
                logger.info("shutdown requested, finishing the batch in flight")
                if let now = machine.requestShutdown() {
                    action = now
                    continue
                }
            }
            action = perform(current)
        }
        finishAhead()
        database = nil
        metrics.registry.set(ServiceMetrics.up, to: 0)
        if let fatal {
            logger.critical("daemon cannot run", metadata: [LogKey.error: "\(fatal)"])
            throw fatal
        }
        logger.info("daemon stopped")
    }

    /// Performs one action; returns the next, or nil to leave the loop.
    private func perform(_ action: ScoringStateMachine.Action) -> ScoringStateMachine.Action? {
        switch action {
        case .connect:
            return withDatabaseFailure { try openConnection() }
        case .waitToReconnect(let seconds, let attempt):
            logger.warning(
                "database unavailable, reconnecting",
                metadata: [
                    LogKey.seconds: "\(String(format: "%.2f", seconds))", "attempt": "\(attempt)",
                ])
            metrics.registry.set(ServiceMetrics.up, to: 0)
            sleep(seconds: seconds)
            return machine.reconnectDelayElapsed()
        case .releaseStaleLeases:
            return withDatabaseFailure {
                try database!.releaseJobs(daemon: config.name)
                return machine.staleLeasesReleased()
            }
        case .claim(let maxJobs):
            return withDatabaseFailure {
                try heartbeatIfDue()
                let jobs = try database!.claimJobs(
                    daemon: config.name, maxJobs: maxJobs, leaseSeconds: config.leaseSeconds)
                return machine.claimed(jobs)
            }
        case .score(let jobs, let startedAhead, let claimAhead):
            return withDatabaseFailure { try score(jobs, startedAhead: startedAhead, claimAhead: claimAhead) }
        case .commit(let batch, let scoreAhead):
            return withDatabaseFailure { try commit(batch, scoreAhead: scoreAhead) }
        case .abandonAhead:
            finishAhead()
            return machine.aheadAbandoned()
        case .waitForWork:
            return withDatabaseFailure { try waitForWork() }
        case .releaseLeasesAndStop:
            return withDatabaseFailure {
                try database!.releaseJobs(daemon: config.name)
                try database!.markStopped(daemon: config.name)
                return machine.stopped()
            }
        case .exit:
            return nil
        }
    }

    private func withDatabaseFailure(
        _ body: () throws -> ScoringStateMachine.Action?
    ) -> ScoringStateMachine.Action? {
        do {
            return try body()
        } catch let error as any DaemonFatalError {
            fatal = error
            database = nil
            finishAhead()
            return nil
        } catch {
            logger.error("database call failed", metadata: [LogKey.error: "\(error)"])
            database = nil
            return machine.databaseFailed()
        }
    }

    private func openConnection() throws -> ScoringStateMachine.Action {
        let db = try connect()
        try db.register(
            daemon: config.name, host: ProcessInfo.processInfo.hostName,
            pid: Int(ProcessInfo.processInfo.processIdentifier), version: Self.version,
            listen: !config.pollOnly)
        database = db
        if connectedOnce { metrics.registry.increment(ServiceMetrics.reconnects) }
        connectedOnce = true
        nextHeartbeat = Date().addingTimeInterval(config.heartbeatSeconds)
        try refreshRegistry()
        metrics.registry.set(ServiceMetrics.up, to: 1)
        logger.info("connected and registered", metadata: ["listen": "\(!config.pollOnly)"])
        return machine.connected()
    }

    private func heartbeatIfDue() throws {
        let now = Date()
        guard now >= nextHeartbeat else { return }
        try database!.heartbeat(daemon: config.name)
        try updateQueueDepth()
        nextHeartbeat = now.addingTimeInterval(config.heartbeatSeconds)
    }

    /// Waits for a notification, the poll interval or the heartbeat, in short slices so a
    /// shutdown request is noticed promptly.
    private func waitForWork() throws -> ScoringStateMachine.Action? {
        if nextPoll < Date() { nextPoll = Date().addingTimeInterval(config.pollIntervalSeconds) }
        while true {
            if shouldStop { return machine.requestShutdown() }
            try heartbeatIfDue()
            let now = Date()
            if now >= nextPoll {
                nextPoll = now.addingTimeInterval(config.pollIntervalSeconds)
                try refreshRegistry()
                try updateQueueDepth()
                return machine.wokeUp()
            }
            let slice = min(nextPoll.timeIntervalSince(now), nextHeartbeat.timeIntervalSince(now), 0.5)
            if config.pollOnly {
                sleep(seconds: max(0, slice))
                continue
            }
            let channels = try database!.waitForNotifications(timeoutSeconds: max(0, slice))
            if channels.contains(Channel.models) { try refreshRegistry() }
            if channels.contains(Channel.jobs) || channels.contains(Channel.models) {
                return machine.wokeUp()
            }
        }
    }

    /// The notification channels the daemon LISTENs on.
    public enum Channel {
        public static let jobs = "galaxy_jobs"
        public static let models = "galaxy_models"
    }

    private func refreshRegistry() throws {
        let snapshot = try database!.registry()
        let actions = cache.registryChanged(
            activeModelID: snapshot.activeModelID, pendingModelIDs: snapshot.pendingModelIDs,
            knownModelIDs: snapshot.knownModelIDs)
        for id in storedModels.keys where !snapshot.knownModelIDs.contains(id) { storedModels[id] = nil }
        try performCacheActions(actions)
    }

    private func performCacheActions(_ actions: [ModelCache<any ScoringModel>.Action]) throws {
        for action in actions {
            switch action {
            case .load(let id):
                try load(id)
            case .validate(let id):
                try validate(id)
            case .evicted(let id):
                logger.info("model unloaded", metadata: [LogKey.modelID: "\(id)"])
            }
        }
        metrics.registry.set(ServiceMetrics.modelsLoaded, to: Double(cache.loadedModelIDs.count))
    }

    private func load(_ id: Int64) throws {
        guard let stored = try database!.model(id: id) else {
            cache.loadFailed(id, error: "model \(id) is no longer in galaxy.models")
            return
        }
        storedModels[id] = StoredModel(id: id, name: stored.name, sha256: stored.sha256, onnx: [])
        do {
            let model = try loader.load(onnx: stored.onnx, threads: config.threads)
            try performCacheActions(cache.loaded(id, model: model))
            logger.info("model loaded", metadata: modelMetadata(stored).merging([LogKey.arithmetic: "\(model.arithmetic)"]) { $1 })
        } catch {
            cache.loadFailed(id, error: "model '\(stored.name)' could not be loaded: \(error)")
            logger.error(
                "model failed to load",
                metadata: modelMetadata(stored).merging([LogKey.error: "\(error)"]) { $1 })
        }
    }

    private func validate(_ id: Int64) throws {
        guard let stored = try database!.model(id: id) else {
            cache.validationInterrupted(id)
            return
        }
        storedModels[id] = StoredModel(id: id, name: stored.name, sha256: stored.sha256, onnx: [])
        let model: any ScoringModel
        do {
            model = try loader.load(onnx: stored.onnx, threads: config.threads)
        } catch {
            let reason = "\(error)"
            do {
                try database!.modelRejected(id: id, error: reason)
            } catch {
                cache.validationInterrupted(id)
                throw error
            }
            cache.rejected(id, error: "model '\(stored.name)' was rejected: \(reason)")
            logger.error(
                "model rejected", metadata: modelMetadata(stored).merging([LogKey.error: "\(reason)"]) { $1 })
            return
        }
        do {
            try database!.modelValidated(
                id: id, validated: ValidatedModel(labels: model.labels, metadataJSON: model.metadataJSON))
        } catch {
            cache.validationInterrupted(id)
            throw error
        }
        logger.info("model validated", metadata: modelMetadata(stored))
        try performCacheActions(cache.validated(id, model: model))
        // Validation may have activated it (activate_when_ready): read the registry again.
        try refreshRegistry()
    }

    private func modelMetadata(_ stored: StoredModel) -> Logger.Metadata {
        [
            LogKey.modelID: "\(stored.id)", LogKey.modelName: "\(stored.name)",
            LogKey.modelSHA256: "\(stored.sha256)",
        ]
    }

    /// Scores the batch in hand (started here, or by the commit before it when `startedAhead`) on
    /// the scoring thread; meanwhile this thread claims `claimAhead` more jobs, so the database
    /// round trip overlaps with scoring instead of leaving the cores idle. A failed claim ahead is
    /// reported to the machine after the scores, so the scored batch is committed after
    /// reconnecting.
    private func score(_ jobs: [ClaimedJob], startedAhead: Bool, claimAhead: Int?) throws
        -> ScoringStateMachine.Action
    {
        let flight: ScoringInFlight
        if startedAhead {
            guard let started = ahead, started.jobIDs == jobs.map(\.jobID) else {
                preconditionFailure("the machine named a batch scored ahead that is not in flight")
            }
            flight = started
            ahead = nil
        } else {
            flight = try startScoring(jobs)
        }
        var claimedAhead: [ClaimedJob] = []
        var claimFailure: (any Error)?
        if let claimAhead {
            do {
                claimedAhead = try database!.claimJobs(
                    daemon: config.name, maxJobs: claimAhead, leaseSeconds: config.leaseSeconds)
            } catch {
                claimFailure = error
            }
        }
        let next = machine.scored(finish(flight, jobs), claimedAhead: claimedAhead)
        if let claimFailure { throw claimFailure }
        return next
    }

    /// A batch being scored on a background thread, with the models it pinned.
    private struct ScoringInFlight {
        let jobIDs: [Int64]
        let modelIDs: Set<Int64>
        let work: PendingWork<[JobOutcome]>
    }

    /// Scoring started on the batch claimed ahead while the batch in hand commits.
    private var ahead: ScoringInFlight?

    /// Scores claimed batches while this thread talks to the database; one kept thread for the
    /// daemon's life, fanning out to the worker pool.
    private let scorer = SerialWorker(name: "galaxy.scorer")

    /// Groups jobs by model, loads what is missing, pins the models and starts scoring each group
    /// on all cores, on the scoring thread.
    private func startScoring(_ jobs: [ClaimedJob]) throws -> ScoringInFlight {
        let modelIDs = Set(jobs.map(\.modelID))
        for id in cache.missing(modelIDs) { try load(id) }
        cache.pin(modelIDs)
        // Resolve models here: the scoring thread never touches the cache or the connection.
        let plan = modelIDs.sorted().map { id in
            (jobs.indices.filter { jobs[$0].modelID == id }, cache.lookup(id), id)
        }
        let work = scorer.submit { () -> [JobOutcome] in
            var outcomes = [JobOutcome?](repeating: nil, count: jobs.count)
            for (indices, lookup, id) in plan {
                switch lookup {
                case .ready(let model):
                    let results = model.score(
                        jpegs: indices.map { jobs[$0].jpeg }, imageIDs: indices.map { jobs[$0].imageID })
                    for (index, outcome) in zip(indices, results) { outcomes[index] = outcome }
                case .failed(let error):
                    for index in indices { outcomes[index] = .failed(JobError(.modelUnusable, error)) }
                case .missing:
                    let error = JobError(.modelMissing, "model \(id) is not in galaxy.models")
                    for index in indices { outcomes[index] = .failed(error) }
                }
            }
            return outcomes.map { $0! }
        }
        return ScoringInFlight(jobIDs: jobs.map(\.jobID), modelIDs: modelIDs, work: work)
    }

    /// Waits for a batch's scoring, unpins its models, and records and logs the outcomes.
    private func finish(_ flight: ScoringInFlight, _ jobs: [ClaimedJob]) -> [JobOutcome] {
        let outcomes = waitAndUnpin(flight)
        for (job, outcome) in zip(jobs, outcomes) {
            switch outcome {
            case .scored(let score):
                metrics.registry.observe(
                    ServiceMetrics.scoringLatency, Double(score.latencyMilliseconds) / 1000)
            case .failed(let error):
                logger.warning(
                    "job failed",
                    metadata: [
                        LogKey.jobID: "\(job.jobID)", LogKey.imageID: "\(job.imageID)",
                        LogKey.modelID: "\(job.modelID)", LogKey.attempt: "\(job.attempt)",
                        LogKey.errorCode: "\(error.code.rawValue)", LogKey.error: "\(error)",
                    ])
            }
        }
        return outcomes
    }

    /// Waits out scoring started ahead whose batch will not be committed (the machine's
    /// `abandonAhead`, or a fatal stop): its jobs stay leased and are released or taken over like
    /// any claimed job.
    private func finishAhead() {
        guard let ahead else { return }
        self.ahead = nil
        _ = waitAndUnpin(ahead)
    }

    /// Waits for a batch's scoring and releases the models `startScoring` pinned for it.
    private func waitAndUnpin(_ flight: ScoringInFlight) -> [JobOutcome] {
        let outcomes = flight.work.wait()
        try? performCacheActions(cache.unpin(flight.modelIDs))
        return outcomes
    }

    private func commit(_ batch: BatchResult, scoreAhead: [ClaimedJob]) throws -> ScoringStateMachine.Action {
        // The batch claimed ahead is scored while this one commits.
        if !scoreAhead.isEmpty {
            ahead = try startScoring(scoreAhead)
        }
        var preprocessing: [Int64: String] = [:]
        for modelID in Set(batch.completions.map(\.modelID)) {
            if case .ready(let model) = cache.lookup(modelID) {
                preprocessing[modelID] = model.preprocessingJSON
            }
        }
        let receipt = try database!.commit(daemon: config.name, batch: batch, preprocessing: preprocessing)
        let (next, summary) = machine.committed(receipt)
        metrics.record(summary, batchSize: batch.count)
        logger.debug(
            "batch committed",
            metadata: [
                LogKey.count: "\(batch.count)", LogKey.completed: "\(summary.completed)",
                LogKey.retried: "\(summary.retried)", LogKey.failed: "\(summary.failedForGood)",
                LogKey.lostLease: "\(summary.lostLease)",
            ])
        if summary.lostLease > 0 {
            logger.warning(
                "scored jobs had been taken over by another daemon",
                metadata: [LogKey.lostLease: "\(summary.lostLease)"])
        }
        // Between batches, pick up notifications without waiting (a model switch under load).
        if !config.pollOnly, next != .releaseLeasesAndStop {
            let channels = try database!.waitForNotifications(timeoutSeconds: 0)
            if channels.contains(Channel.models) { try refreshRegistry() }
        }
        try heartbeatIfDue()
        return next
    }

    private func updateQueueDepth() throws {
        metrics.registry.set(ServiceMetrics.queueDepth, to: Double(try database!.queueDepth()))
    }

    private func sleep(seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while !shouldStop {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return }
            Thread.sleep(forTimeInterval: min(left, 0.1))
        }
    }
}
