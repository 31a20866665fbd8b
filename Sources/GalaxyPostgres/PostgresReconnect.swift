import CLibPQ
import Foundation
import Logging

/// How to retry connecting: exponential backoff between attempts.
public struct PostgresReconnectPolicy: Sendable {
    /// The first pause, in seconds.
    public var initialDelay: Double
    /// The longest pause, in seconds.
    public var maxDelay: Double
    /// Each pause is the previous one times this.
    public var multiplier: Double
    /// Give up after this many attempts; nil retries until `shouldStop` says so.
    public var maxAttempts: Int?

    public init(initialDelay: Double = 0.1, maxDelay: Double = 5, multiplier: Double = 2, maxAttempts: Int? = nil) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
        self.maxAttempts = maxAttempts
    }

    /// The pause before attempt `attempt` (1-based; attempt 1 does not wait).
    public func delay(beforeAttempt attempt: Int) -> Double {
        guard attempt > 1 else { return 0 }
        return min(maxDelay, initialDelay * pow(multiplier, Double(attempt - 2)))
    }
}

/// Retries `operation` with the policy's backoff while it fails with a connection loss.
func retryingConnectionLoss<T>(
    policy: PostgresReconnectPolicy, logger: Logger, what: String,
    shouldStop: () -> Bool, _ operation: () throws -> T
) throws -> T {
    var attempt = 1
    while true {
        do {
            return try operation()
        } catch let error as PostgresError where error.isConnectionLoss {
            if let max = policy.maxAttempts, attempt >= max { throw error }
            if shouldStop() { throw error }
            attempt += 1
            let pause = policy.delay(beforeAttempt: attempt)
            logger.info(
                "PostgreSQL unreachable, retrying",
                metadata: [
                    "postgres.operation": "\(what)", "postgres.attempt": "\(attempt)",
                    "postgres.delay_s": "\(String(format: "%.2f", pause))", "postgres.error": "\(error.message)",
                ])
            // Sleep in slices so a stop request is noticed quickly.
            let until = Date().addingTimeInterval(pause)
            while Date() < until {
                if shouldStop() { throw error }
                Thread.sleep(forTimeInterval: min(0.05, max(0, until.timeIntervalSinceNow)))
            }
        }
    }
}

extension PostgresConnection {
    /// Opens a connection, retrying with backoff while the server is unreachable (starting up,
    /// restarting). Errors other than connection failures (bad password, unknown database) are
    /// thrown at once.
    ///
    /// - Parameter shouldStop: checked between attempts; return true to give up (shutdown).
    public static func connect(
        conninfo: String? = nil, applicationName: String = "galaxy", policy: PostgresReconnectPolicy = .init(),
        logger: Logger = Logger(label: "galaxy.postgres"), shouldStop: () -> Bool = { false }
    ) throws -> PostgresConnection {
        try retryingConnectionLoss(policy: policy, logger: logger, what: "connect", shouldStop: shouldStop) {
            do {
                return try PostgresConnection(conninfo: conninfo, applicationName: applicationName, logger: logger)
            } catch let error as PostgresError where error.isPermanent {
                // Wrong credentials or database: retrying cannot help.
                throw PostgresError(kind: .usage, message: error.message)
            }
        }
    }

    /// Re-establishes this connection after the server went away (same settings), with backoff,
    /// and LISTENs again on the channels it listened on. Session state (prepared statements,
    /// temporary tables, settings) is gone afterwards.
    public func reconnect(policy: PostgresReconnectPolicy = .init(), shouldStop: () -> Bool = { false }) throws {
        try lock.withLock {
            try retryingConnectionLoss(policy: policy, logger: logger, what: "reconnect", shouldStop: shouldStop) {
                PQreset(conn)
                guard PQstatus(conn) == CONNECTION_OK else {
                    throw PostgresError(kind: .connection, message: Self.trimmed(PQerrorMessage(conn)))
                }
            }
            inTransaction = false
            for channel in listenedChannels {
                try execute(PostgresQuery(unsafeSQL: "LISTEN " + PostgresQuery.quoteIdentifier(channel)))
            }
            logger.info("reconnected to PostgreSQL", metadata: ["postgres.target": "\(target)"])
        }
    }
}
