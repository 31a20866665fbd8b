import Foundation
import GalaxyPostgres
import GalaxyTestSupport

/// One database for this test target, created on first use in the shared cluster.
enum TestDatabase {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var conninfo: String?

    static func url() throws -> String {
        try lock.withLock {
            if let conninfo { return conninfo }
            let made = try PostgresCluster.shared().createDatabase(prefix: "postgres_tests")
            conninfo = made
            return made
        }
    }

    static func connect() throws -> PostgresConnection {
        try PostgresConnection(conninfo: url())
    }

    /// A table name unique to one test, so tests can run in parallel.
    static func tableName(_ base: String) -> String {
        "\(base)_\(UInt32.random(in: 0..<UInt32.max))"
    }
}
