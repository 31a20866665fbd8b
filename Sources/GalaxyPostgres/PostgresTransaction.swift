import CLibPQ

/// Transaction isolation levels.
public enum PostgresIsolation: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

extension PostgresConnection {
    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws (and
    /// rethrows). Other threads cannot use the connection meanwhile.
    ///
    /// - Throws: the error from `body`, or `PostgresError` from BEGIN/COMMIT. A `.usage` error if
    ///   a transaction is already open on this connection, or if `body` swallowed a statement error
    ///   (PostgreSQL then refuses to commit and the work is rolled back).
    public func transaction<T>(
        isolation: PostgresIsolation? = nil, _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        guard !inTransaction else {
            throw PostgresError(kind: .usage, message: "a transaction is already open on this connection; nested transactions are not supported")
        }
        let begin = isolation.map { "BEGIN ISOLATION LEVEL \($0.rawValue)" } ?? "BEGIN"
        try execute(PostgresQuery(unsafeSQL: begin))
        inTransaction = true
        defer { inTransaction = false }
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackQuietly()
            throw error
        }
        if PQtransactionStatus(conn) == PQTRANS_INERROR {
            rollbackQuietly()
            throw PostgresError(
                kind: .usage,
                message: "the transaction was rolled back: a statement inside it failed and the error was caught without rethrowing")
        }
        try execute("COMMIT")
        return value
    }

    private func rollbackQuietly() {
        guard PQstatus(conn) == CONNECTION_OK, PQtransactionStatus(conn) != PQTRANS_IDLE else { return }
        do {
            try execute("ROLLBACK")
        } catch {
            logger.debug("rollback failed", metadata: ["postgres.error": "\(error)"])
        }
    }
}
