/// How a value travels on the wire.
public enum PostgresFormat: Int32, Sendable, Hashable {
    case text = 0
    case binary = 1
}

/// PostgreSQL type OIDs this module encodes or decodes (values from `pg_type`).
public enum PostgresTypeOID {
    public static let unspecified: UInt32 = 0
    public static let bool: UInt32 = 16
    public static let bytea: UInt32 = 17
    public static let char: UInt32 = 18
    public static let name: UInt32 = 19
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let oid: UInt32 = 26
    public static let json: UInt32 = 114
    public static let float4: UInt32 = 700
    public static let float8: UInt32 = 701
    public static let unknown: UInt32 = 705
    public static let boolArray: UInt32 = 1000
    public static let byteaArray: UInt32 = 1001
    public static let int2Array: UInt32 = 1005
    public static let int4Array: UInt32 = 1007
    public static let textArray: UInt32 = 1009
    public static let varcharArray: UInt32 = 1015
    public static let int8Array: UInt32 = 1016
    public static let float4Array: UInt32 = 1021
    public static let float8Array: UInt32 = 1022
    public static let bpchar: UInt32 = 1042
    public static let varchar: UInt32 = 1043
    public static let date: UInt32 = 1082
    public static let timestamp: UInt32 = 1114
    public static let timestampArray: UInt32 = 1115
    public static let timestamptz: UInt32 = 1184
    public static let timestamptzArray: UInt32 = 1185
    public static let numeric: UInt32 = 1700
    public static let uuid: UInt32 = 2950
    public static let jsonb: UInt32 = 3802
    public static let jsonbArray: UInt32 = 3807
    public static let jsonArray: UInt32 = 199
    public static let nameArray: UInt32 = 1003

    /// Types whose binary form is their UTF-8 text.
    static let textLike: Set<UInt32> = [text, varchar, bpchar, name, unknown, json, char]
}

/// One parameter value ready for libpq: its type, format and bytes (nil means SQL NULL).
public struct PostgresBind: Sendable, Hashable {
    /// The parameter's type OID, or 0 to let the server infer it from the statement.
    public var typeOID: UInt32
    /// Text or binary.
    public var format: PostgresFormat
    /// The encoded value; nil is SQL NULL.
    public var bytes: [UInt8]?

    public init(typeOID: UInt32, format: PostgresFormat, bytes: [UInt8]?) {
        self.typeOID = typeOID
        self.format = format
        self.bytes = bytes
    }

    /// SQL NULL of unspecified type.
    public static let null = PostgresBind(typeOID: 0, format: .text, bytes: nil)

    /// A text-format value of unspecified type: the server infers its type from the context, as for
    /// a quoted literal (`'42'`).
    public static func untypedText(_ text: String) -> PostgresBind {
        PostgresBind(typeOID: PostgresTypeOID.unspecified, format: .text, bytes: Array(text.utf8))
    }
}

/// A Swift value that can be sent as a statement parameter.
///
/// Scalars (integers, floating point, booleans, strings, dates) travel as untyped text, so
/// PostgreSQL infers their type from the statement as it does for a quoted literal; write a cast
/// (`\(n)::int`) where the statement does not say. `bytea` and arrays travel in binary with their
/// exact type.
public protocol PostgresEncodable {
    /// The value encoded for libpq.
    var postgresBind: PostgresBind { get }
}

extension PostgresBind: PostgresEncodable {
    public var postgresBind: PostgresBind { self }
}

extension Int: PostgresEncodable {
    public var postgresBind: PostgresBind { .untypedText(String(self)) }
}
extension Int64: PostgresEncodable {
    public var postgresBind: PostgresBind { .untypedText(String(self)) }
}
extension Int32: PostgresEncodable {
    public var postgresBind: PostgresBind { .untypedText(String(self)) }
}
extension Int16: PostgresEncodable {
    public var postgresBind: PostgresBind { .untypedText(String(self)) }
}
extension Double: PostgresEncodable {
    public var postgresBind: PostgresBind { .untypedText(PostgresText.float(self)) }
}
extension Float: PostgresEncodable {
    public var postgresBind: PostgresBind { .untypedText(PostgresText.float(Double(self), shortest: self.description)) }
}
extension Bool: PostgresEncodable {
    public var postgresBind: PostgresBind { .untypedText(self ? "t" : "f") }
}
extension String: PostgresEncodable {
    public var postgresBind: PostgresBind { .untypedText(self) }
}
extension Substring: PostgresEncodable {
    public var postgresBind: PostgresBind { .untypedText(String(self)) }
}
extension Date: PostgresEncodable {
    /// Sent as an ISO 8601 timestamp with microseconds in UTC, so it fits `timestamptz` columns.
    public var postgresBind: PostgresBind { .untypedText(PostgresText.timestamp(self)) }
}
extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresBind: PostgresBind {
        switch self {
        case .none: return .null
        case .some(let value): return value.postgresBind
        }
    }
}

/// Raw bytes sent and received as `bytea` in binary format (no hex or escape encoding).
///
/// `[UInt8]` is `bytea` already; this wrapper exists for call sites that want to say so.
public struct PostgresBytea: Sendable, Hashable, PostgresEncodable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var postgresBind: PostgresBind {
        PostgresBind(typeOID: PostgresTypeOID.bytea, format: .binary, bytes: bytes)
    }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    /// A one-dimensional array in binary format with the element type's array OID
    /// (`bigint[]`, `text[]`, `jsonb[]`, `real[]`, ...); `[UInt8]` is `bytea` instead.
    public var postgresBind: PostgresBind {
        Element.encodeArray(self)
    }
}

/// A JSON document sent and received as `jsonb` (text inside; not parsed here).
public struct PostgresJSONB: Sendable, Hashable, PostgresEncodable {
    /// The JSON text.
    public var text: String
    public init(_ text: String) { self.text = text }
    public var postgresBind: PostgresBind {
        PostgresBind(typeOID: PostgresTypeOID.jsonb, format: .binary, bytes: [1] + Array(text.utf8))
    }
}

import Foundation

/// Text renderings PostgreSQL accepts for scalar parameters.
enum PostgresText {
    static func float(_ value: Double, shortest: String? = nil) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return shortest ?? value.description
    }

    /// `2026-11-24 20:43:51.123456+00`.
    static func timestamp(_ date: Date) -> String {
        let micros = PostgresTime.microsecondsSince2000(date)
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        let unix = seconds + PostgresTime.unixOffset2000
        var t = time_t(unix)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", Int(parts.tm_year) + 1900,
            Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min),
            Int(parts.tm_sec), Int(fraction))
    }
}

/// PostgreSQL's epoch is 2000-01-01 00:00:00 UTC.
enum PostgresTime {
    static let unixOffset2000: Int64 = 946_684_800

    static func microsecondsSince2000(_ date: Date) -> Int64 {
        let seconds = date.timeIntervalSince1970 - Double(unixOffset2000)
        return Int64((seconds * 1_000_000).rounded())
    }

    static func date(microsecondsSince2000 micros: Int64) -> Date {
        Date(timeIntervalSince1970: Double(unixOffset2000) + Double(micros) / 1_000_000)
    }
}
