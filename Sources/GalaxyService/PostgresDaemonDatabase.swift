import Foundation
import GalaxyPostgres
import Logging

/// `DaemonDatabase` over one connection: the daemon protocol calls are `GalaxyStore`'s; this adds
/// the connection's LISTEN and notifications and the daemon's typed refusals.
public final class PostgresDaemonDatabase: DaemonDatabase {
    private let connection: PostgresConnection
    private var store: GalaxyStore { GalaxyStore(connection: connection) }

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
        guard try store.hasDaemonProtocol() else { throw ServiceError.schemaMissing(target: store.target) }
        do {
            try store.registerDaemon(name: daemon, host: host, pid: pid, version: version)
        } catch let error as PostgresError where error.isPermanent {
            throw ServiceError.refused(target: store.target, reason: error.message)
        }
        if listen {
            try connection.listen(ScoringDaemon.Channel.jobs)
            try connection.listen(ScoringDaemon.Channel.models)
        }
    }

    public func heartbeat(daemon: String) throws { try store.heartbeat(daemon: daemon) }

    public func releaseJobs(daemon: String) throws { try store.releaseJobs(daemon: daemon) }

    public func markStopped(daemon: String) throws { try store.markDaemonStopped(daemon) }

    public func claimJobs(daemon: String, maxJobs: Int, leaseSeconds: Double) throws -> [ClaimedJob] {
        try store.claimJobs(daemon: daemon, maxJobs: maxJobs, leaseSeconds: leaseSeconds)
    }

    public func commit(daemon: String, batch: BatchResult, preprocessing: [Int64: String]) throws -> CommitReceipt {
        try store.commit(daemon: daemon, batch: batch, preprocessing: preprocessing)
    }

    public func waitForNotifications(timeoutSeconds: Double) throws -> Set<String> {
        let received =
            timeoutSeconds <= 0
            ? try connection.pendingNotifications()
            : try connection.waitForNotifications(timeout: timeoutSeconds)
        return Set(received.map(\.channel))
    }

    public func registry() throws -> RegistrySnapshot { try store.daemonRegistry() }

    public func model(id: Int64) throws -> StoredModel? { try store.daemonModel(id: id) }

    public func modelValidated(id: Int64, validated: ValidatedModel) throws {
        try store.recordValidation(modelID: id, validated)
    }

    public func modelRejected(id: Int64, error: String) throws {
        try store.recordRejection(modelID: id, error: error)
    }

    public func queueDepth() throws -> Int { try store.queueDepthEstimate() }
}
