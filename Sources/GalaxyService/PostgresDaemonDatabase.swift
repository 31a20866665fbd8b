import Foundation
import GalaxyPostgres
import Logging

/// `DaemonDatabase` over one GalaxyPostgres connection: each method is one call of the daemon
/// protocol in docs/architecture.md (plus read-only looks at `galaxy.models` and the queue size).
public final class PostgresDaemonDatabase: DaemonDatabase {
    private let connection: PostgresConnection

    /// Opens a connection (conninfo, else `DATABASE_URL`, else libpq's `PG*` variables).
    /// - Throws: `PostgresError` when the server cannot be reached.
    public init(conninfo: String?, applicationName: String = "galaxy serve", logger: Logger) throws {
        do {
            connection = try PostgresConnection(
                conninfo: conninfo, applicationName: applicationName, logger: logger)
        } catch let error as PostgresError where error.isPermanent {
            throw ServiceError.refused(
                target: PostgresConnection.resolveConnInfo(conninfo), reason: error.message)
        }
    }

    /// Wraps an open connection.
    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    public func register(daemon: String, host: String, pid: Int, version: String, listen: Bool) throws {
        try SchemaCheck.requireDaemonProtocol(on: connection)
        do {
            _ = try connection.query("select galaxy.daemon_register(\(daemon), \(host), \(pid), \(version))")
        } catch let error as PostgresError where error.isPermanent {
            throw ServiceError.refused(target: connection.target, reason: error.message)
        }
        if listen {
            try connection.listen(ScoringDaemon.Channel.jobs)
            try connection.listen(ScoringDaemon.Channel.models)
        }
    }

    public func heartbeat(daemon: String) throws {
        _ = try connection.query("select galaxy.daemon_heartbeat(\(daemon))")
    }

    public func releaseJobs(daemon: String) throws {
        _ = try connection.query("select galaxy.release_jobs(\(daemon))")
    }

    public func markStopped(daemon: String) throws {
        _ = try connection.query("select galaxy.daemon_stopped(\(daemon))")
    }

    public func claimJobs(daemon: String, maxJobs: Int, leaseSeconds: Double) throws -> [ClaimedJob] {
        let result = try connection.query(
            "select job_id, image_id, model_id, attempt, jpeg from galaxy.claim_jobs(\(daemon), \(maxJobs), \(leaseSeconds))"
        )
        return try result.map { row in
            ClaimedJob(
                jobID: try row.decode(Int64.self, at: 0), imageID: try row.decode(Int64.self, at: 1),
                modelID: try row.decode(Int64.self, at: 2), attempt: Int(try row.decode(Int32.self, at: 3)),
                jpeg: try row.decode([UInt8].self, at: 4))
        }
    }

    public func commit(
        daemon: String, batch: BatchResult, preprocessing: [Int64: String]
    ) throws -> CommitReceipt {
        try connection.transaction { connection in
            var completed: [Int64] = []
            let byModel = Dictionary(grouping: batch.completions, by: \.modelID)
            for modelID in byModel.keys.sorted() {
                let group = byModel[modelID]!
                let ids = group.map(\.jobID)
                let labels = group.map(\.score.label)
                let classes = group.map(\.score.galaxyClass)
                let probabilities = group.map { PostgresJSONB(JSONText.object($0.score.probabilities)) }
                let latencies = group.map(\.score.latencyMilliseconds)
                let parameters = PostgresJSONB(preprocessing[modelID] ?? "{}")
                let result = try connection.query(
                    """
                    select galaxy.complete_jobs(\(daemon), \(ids), \(labels), \(classes), \(probabilities), \
                    \(latencies), \(parameters))
                    """)
                completed += try result.first.map { try $0.decode([Int64]?.self, at: 0) ?? [] } ?? []
            }
            var failedForGood: [Int64] = []
            if !batch.failures.isEmpty {
                let ids = batch.failures.map(\.jobID)
                let errors = batch.failures.map(\.error.message)
                let codes = batch.failures.map(\.error.code.rawValue)
                // fail_jobs reads "retry after infinitely long" as "fail now".
                let delays = batch.failures.map { $0.retryAfterSeconds ?? .infinity }
                let result = try connection.query(
                    "select galaxy.fail_jobs(\(daemon), \(ids), \(errors), \(codes), \(delays))")
                failedForGood = try result.first.map { try $0.decode([Int64]?.self, at: 0) ?? [] } ?? []
            }
            return CommitReceipt(completed: completed, failedForGood: failedForGood)
        }
    }

    public func waitForNotifications(timeoutSeconds: Double) throws -> Set<String> {
        let received =
            timeoutSeconds <= 0
            ? try connection.pendingNotifications()
            : try connection.waitForNotifications(timeout: timeoutSeconds)
        return Set(received.map(\.channel))
    }

    public func registry() throws -> RegistrySnapshot {
        let result = try connection.query("select model_id, status, active from galaxy.daemon_models()")
        var active: Int64?
        var pending: [Int64] = []
        var known: Set<Int64> = []
        for row in result {
            let id = try row.decode(Int64.self, at: 0)
            known.insert(id)
            if try row.decode(String.self, at: 1) == "pending" { pending.append(id) }
            if try row.decode(Bool.self, at: 2) { active = id }
        }
        return RegistrySnapshot(activeModelID: active, pendingModelIDs: pending, knownModelIDs: known)
    }

    public func model(id: Int64) throws -> StoredModel? {
        let result = try connection.query(
            "select name, encode(sha256, 'hex'), galaxy.model_onnx(model_id) from galaxy.daemon_models() where model_id = \(id)"
        )
        guard let row = result.first else { return nil }
        return StoredModel(
            id: id, name: try row.decode(String.self, at: 0), sha256: try row.decode(String.self, at: 1),
            onnx: try row.decode([UInt8].self, at: 2))
    }

    public func modelValidated(id: Int64, metadataJSON: String, labels: [String]) throws {
        _ = try connection.query(
            "select galaxy.model_validated(\(id), \(PostgresJSONB(metadataJSON)), \(labels))")
    }

    public func modelRejected(id: Int64, error: String) throws {
        _ = try connection.query("select galaxy.model_rejected(\(id), \(error))")
    }

    /// From the statistics collector, which needs no privilege on the queue (the daemon role has
    /// none): close to the truth, refreshed within a second or so.
    public func queueDepth() throws -> Int {
        let result = try connection.query(
            "select coalesce(max(n_live_tup), 0) from pg_stat_user_tables where relid = to_regclass('galaxy.queue')"
        )
        return Int(try result.scalar(Int64.self))
    }
}
