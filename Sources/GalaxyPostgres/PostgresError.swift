/// A failure reported by PostgreSQL, by libpq, or while converting a value.
///
/// `description` says what failed, where and what to do. Bind values never appear in it: only the
/// statement text (with its `$n` placeholders) is kept.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// The broad kind of failure.
    public enum Kind: Sendable, Hashable {
        /// The connection could not be opened or was lost.
        case connection
        /// The server rejected a statement; `sqlState` says why.
        case server
        /// A value could not be converted between PostgreSQL and Swift.
        case decoding
        /// A COPY stream failed on the client side.
        case copy
        /// The client was used wrongly (for example a nested transaction).
        case usage
    }

    /// The broad kind of failure.
    public var kind: Kind
    /// The five-character SQLSTATE code (`42601` for a syntax error), when the server sent one.
    public var sqlState: String?
    /// The primary message.
    public var message: String
    /// The server's detail line, if any.
    public var detail: String?
    /// The server's hint line, if any.
    public var hint: String?
    /// Where in PL/pgSQL or SQL functions the error happened (the server's context field).
    public var context: String?
    /// The constraint that was violated, if any.
    public var constraint: String?
    /// The table the error refers to, if any (schema-qualified when the server says the schema).
    public var table: String?
    /// The statement that failed, with placeholders instead of values.
    public var statement: String?
    /// The 1-based character position in `statement` the server pointed at.
    public var position: Int?

    /// Creates an error; most errors come from the connection, tests and callers rarely need this.
    public init(
        kind: Kind, message: String, sqlState: String? = nil, detail: String? = nil,
        hint: String? = nil, context: String? = nil, constraint: String? = nil,
        table: String? = nil, statement: String? = nil, position: Int? = nil
    ) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.context = context
        self.constraint = constraint
        self.table = table
        self.statement = statement
        self.position = position
    }

    /// True when the error means the connection is gone (the server restarted or shut down, the
    /// network failed) and reconnecting may help.
    public var isConnectionLoss: Bool {
        if kind == .connection { return true }
        guard let code = sqlState else { return false }
        // Class 08 is connection exceptions; 57P01-57P03 are admin/crash shutdown and "cannot connect now".
        return code.hasPrefix("08") || code == "57P01" || code == "57P02" || code == "57P03"
    }

    /// True when retrying the same call cannot succeed: bad credentials, a missing database, role
    /// or function, missing privileges, a malformed connection string. Decided by SQLSTATE when
    /// the server sent one; failures before a session exists carry only libpq's text, so those few
    /// messages are recognised by their wording.
    public var isPermanent: Bool {
        if let state = sqlState {
            // invalid authorization / password, unknown database, insufficient privilege,
            // undefined function, unknown schema
            return ["28000", "28P01", "3D000", "42501", "42883", "3F000"].contains(state)
        }
        let m = message.lowercased()
        return m.contains("password authentication failed") || m.contains("does not exist")
            || m.contains("no pg_hba.conf entry") || m.contains("invalid connection option")
            || m.contains("invalid uri") || m.contains("missing \"=\"")
    }

    public var description: String {
        var text: String
        switch kind {
        case .connection: text = "PostgreSQL connection failed: \(message)"
        case .server: text = "PostgreSQL error \(sqlState ?? "?????"): \(message)"
        case .decoding: text = "cannot convert a PostgreSQL value: \(message)"
        case .copy: text = "COPY failed: \(message)"
        case .usage: text = "wrong use of the PostgreSQL client: \(message)"
        }
        if let detail { text += "\n  detail: \(detail)" }
        if let hint { text += "\n  hint: \(hint)" }
        if let context { text += "\n  context: \(context)" }
        if let statement {
            var shown = statement.trimmingCharacters(in: .whitespacesAndNewlines)
            if shown.count > 400 { shown = String(shown.prefix(400)) + " ..." }
            text += "\n  statement: \(shown)"
            if let position { text += "\n  at character \(position)" }
        }
        if kind == .connection {
            text +=
                "\n  check that the server runs and that the connection settings (--database, DATABASE_URL or PG* variables) point at it"
        }
        return text
    }
}

extension PostgresError {
    /// SQLSTATE codes that callers commonly branch on.
    public enum Code {
        public static let syntaxError = "42601"
        public static let uniqueViolation = "23505"
        public static let foreignKeyViolation = "23503"
        public static let notNullViolation = "23502"
        public static let checkViolation = "23514"
        public static let undefinedTable = "42P01"
        public static let undefinedFunction = "42883"
        public static let serializationFailure = "40001"
        public static let deadlockDetected = "40P01"
        public static let queryCanceled = "57014"
        public static let adminShutdown = "57P01"
        public static let insufficientPrivilege = "42501"
        public static let raiseException = "P0001"
    }
}

import Foundation
