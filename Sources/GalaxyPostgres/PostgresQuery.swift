/// A SQL statement with its parameters. Built by string interpolation, every `\(value)` becomes a
/// `$n` placeholder and a bind, so values never become SQL text:
///
/// ```swift
/// let rows = try connection.query("select id from galaxy.images where file_name = \(name)")
/// ```
///
/// SQL text that is not a literal (identifiers chosen at run time, whole migration files) needs
/// the explicitly named `init(unsafeSQL:binds:)`.
public struct PostgresQuery: Sendable, Hashable, ExpressibleByStringInterpolation {
    /// The statement text with `$1`, `$2`, ... placeholders.
    public var sql: String
    /// The values for the placeholders, in order.
    public var binds: [PostgresBind]

    /// A statement from SQL text that the caller vouches for, with optional binds for `$n`
    /// placeholders it already contains. Never build `sql` from untrusted input.
    public init(unsafeSQL sql: String, binds: [PostgresBind] = []) {
        self.sql = sql
        self.binds = binds
    }

    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(unsafeSQL: stringInterpolation.sql, binds: stringInterpolation.binds)
    }

    /// Collects literal SQL and turns interpolated values into binds.
    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [PostgresBind] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// Adds `value` as the next `$n` parameter.
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T) {
            binds.append(value.postgresBind)
            sql += "$\(binds.count)"
        }

        /// Adds `value` as the next `$n` parameter, or NULL when it is nil.
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T?) {
            binds.append(value?.postgresBind ?? .null)
            sql += "$\(binds.count)"
        }

        /// Adds a quoted SQL identifier (`"my table"`), for names only known at run time.
        public mutating func appendInterpolation(identifier: String) {
            sql += PostgresQuery.quoteIdentifier(identifier)
        }

        /// Adds SQL text verbatim. The name says it: never pass untrusted input.
        public mutating func appendInterpolation(unsafeSQL text: String) {
            sql += text
        }
    }

    /// Quotes `name` as an SQL identifier, doubling embedded quotes.
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

import Foundation
