import Foundation
import GalaxyPostgres
import GalaxyStore
import Logging

/// Reads models for the scoring socket over a connection of its own (opened at first use, opened
/// again after a failure), so that socket requests never wait for the queue's connection.
public final class SocketModelReader: @unchecked Sendable {
    private let conninfo: String?
    private let logger: Logger
    private let lock = NSLock()
    private var connection: PostgresConnection?

    public init(conninfo: String?, logger: Logger) {
        self.conninfo = conninfo
        self.logger = logger
    }

    /// The model's bytes, name and sha256; nil when `galaxy.models` has no such id.
    public func model(id: Int64) throws -> StoredModel? {
        lock.lock()
        defer { lock.unlock() }
        do {
            let open =
                try connection
                ?? PostgresConnection(conninfo: conninfo, applicationName: "galaxy serve (scoring socket)", logger: logger)
            connection = open
            return try GalaxyStore(connection: open).daemonModel(id: id)
        } catch {
            connection = nil
            throw error
        }
    }
}
