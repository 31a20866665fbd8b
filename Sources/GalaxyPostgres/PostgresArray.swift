import Foundation

/// An element type of one-dimensional PostgreSQL arrays, sent and read in binary format.
///
/// Conforming types: `Int`, `Int64` (`bigint[]`), `Int32` (`integer[]`), `Int16`, `Double`
/// (`double precision[]`), `Float` (`real[]`), `Bool`, `String` (`text[]`), `PostgresJSONB`
/// (`jsonb[]`), `Date` (`timestamptz[]`). `UInt8` is special: `[UInt8]` is `bytea`.
public protocol PostgresArrayElement: PostgresDecodable {
    /// The element type's OID (`int8` for `Int`).
    static var postgresElementOID: UInt32 { get }
    /// The array type's OID (`_int8` for `Int`).
    static var postgresArrayOID: UInt32 { get }
    /// Appends the element's binary form (without its length prefix).
    func appendPostgresBinary(to buffer: inout [UInt8])
    /// Encodes a whole array; the default writes PostgreSQL's binary array format.
    static func encodeArray(_ elements: [Self]) -> PostgresBind
    /// Decodes a whole array; the default reads PostgreSQL's binary array format.
    static func decodeArray(_ cell: PostgresCell) throws -> [Self]
}

extension PostgresArrayElement {
    public static func encodeArray(_ elements: [Self]) -> PostgresBind {
        var out = [UInt8]()
        out.reserveCapacity(20 + elements.count * 12)
        out.appendBigEndian(Int32(1))  // dimensions
        out.appendBigEndian(Int32(0))  // has nulls
        out.appendBigEndian(postgresElementOID)
        out.appendBigEndian(Int32(elements.count))
        out.appendBigEndian(Int32(1))  // lower bound
        var element = [UInt8]()
        for value in elements {
            element.removeAll(keepingCapacity: true)
            value.appendPostgresBinary(to: &element)
            out.appendBigEndian(Int32(element.count))
            out.append(contentsOf: element)
        }
        return PostgresBind(typeOID: postgresArrayOID, format: .binary, bytes: out)
    }

    public static func decodeArray(_ cell: PostgresCell) throws -> [Self] {
        let raw = try cell.nonNull([Self].self)
        guard cell.format == .binary else {
            throw cell.decodingError([Self].self, "arrays are read in binary format only")
        }
        var reader = BigEndianReader(raw)
        guard let dimensions = reader.int32(), let _ = reader.int32(), let elementOID = reader.uint32() else {
            throw cell.decodingError([Self].self, "truncated array header")
        }
        if dimensions == 0 { return [] }
        guard dimensions == 1 else {
            throw cell.decodingError([Self].self, "\(dimensions)-dimensional arrays are not supported")
        }
        guard let length = reader.int32(), let _ = reader.int32(), length >= 0 else {
            throw cell.decodingError([Self].self, "truncated array dimensions")
        }
        var values = [Self]()
        values.reserveCapacity(Int(length))
        for i in 0..<Int(length) {
            guard let size = reader.int32() else { throw cell.decodingError([Self].self, "truncated element \(i)") }
            if size < 0 {
                throw cell.decodingError([Self].self, "element \(i + 1) is NULL")
            }
            guard let bytes = reader.bytes(Int(size)) else {
                throw cell.decodingError([Self].self, "truncated element \(i)")
            }
            let element = PostgresCell(
                typeOID: elementOID, format: .binary, raw: bytes, owner: cell.owner,
                columnName: "\(cell.columnName)[\(i + 1)]")
            values.append(try Self(postgresCell: element))
        }
        return values
    }
}

extension Int: PostgresArrayElement {
    public static var postgresElementOID: UInt32 { PostgresTypeOID.int8 }
    public static var postgresArrayOID: UInt32 { PostgresTypeOID.int8Array }
    public func appendPostgresBinary(to buffer: inout [UInt8]) { buffer.appendBigEndian(Int64(self)) }
}
extension Int64: PostgresArrayElement {
    public static var postgresElementOID: UInt32 { PostgresTypeOID.int8 }
    public static var postgresArrayOID: UInt32 { PostgresTypeOID.int8Array }
    public func appendPostgresBinary(to buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
}
extension Int32: PostgresArrayElement {
    public static var postgresElementOID: UInt32 { PostgresTypeOID.int4 }
    public static var postgresArrayOID: UInt32 { PostgresTypeOID.int4Array }
    public func appendPostgresBinary(to buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
}
extension Int16: PostgresArrayElement {
    public static var postgresElementOID: UInt32 { PostgresTypeOID.int2 }
    public static var postgresArrayOID: UInt32 { PostgresTypeOID.int2Array }
    public func appendPostgresBinary(to buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
}
extension Double: PostgresArrayElement {
    public static var postgresElementOID: UInt32 { PostgresTypeOID.float8 }
    public static var postgresArrayOID: UInt32 { PostgresTypeOID.float8Array }
    public func appendPostgresBinary(to buffer: inout [UInt8]) { buffer.appendBigEndian(bitPattern) }
}
extension Float: PostgresArrayElement {
    public static var postgresElementOID: UInt32 { PostgresTypeOID.float4 }
    public static var postgresArrayOID: UInt32 { PostgresTypeOID.float4Array }
    public func appendPostgresBinary(to buffer: inout [UInt8]) { buffer.appendBigEndian(bitPattern) }
}
extension Bool: PostgresArrayElement {
    public static var postgresElementOID: UInt32 { PostgresTypeOID.bool }
    public static var postgresArrayOID: UInt32 { PostgresTypeOID.boolArray }
    public func appendPostgresBinary(to buffer: inout [UInt8]) { buffer.append(self ? 1 : 0) }
}
extension String: PostgresArrayElement {
    public static var postgresElementOID: UInt32 { PostgresTypeOID.text }
    public static var postgresArrayOID: UInt32 { PostgresTypeOID.textArray }
    public func appendPostgresBinary(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}
extension PostgresJSONB: PostgresArrayElement {
    public static var postgresElementOID: UInt32 { PostgresTypeOID.jsonb }
    public static var postgresArrayOID: UInt32 { PostgresTypeOID.jsonbArray }
    public func appendPostgresBinary(to buffer: inout [UInt8]) {
        buffer.append(1)  // jsonb binary format version
        buffer.append(contentsOf: text.utf8)
    }
}
extension Date: PostgresArrayElement {
    public static var postgresElementOID: UInt32 { PostgresTypeOID.timestamptz }
    public static var postgresArrayOID: UInt32 { PostgresTypeOID.timestamptzArray }
    public func appendPostgresBinary(to buffer: inout [UInt8]) {
        buffer.appendBigEndian(PostgresTime.microsecondsSince2000(self))
    }
}
extension PostgresBytea: PostgresArrayElement {
    public static var postgresElementOID: UInt32 { PostgresTypeOID.bytea }
    public static var postgresArrayOID: UInt32 { PostgresTypeOID.byteaArray }
    public func appendPostgresBinary(to buffer: inout [UInt8]) { buffer.append(contentsOf: bytes) }
}

extension UInt8: PostgresDecodable {
    /// A single byte is not a PostgreSQL type; this exists so `[UInt8]` can read `bytea`.
    public init(postgresCell cell: PostgresCell) throws {
        throw cell.decodingError(UInt8.self, "read bytea as [UInt8]")
    }
}

extension UInt8: PostgresArrayElement {
    public static var postgresElementOID: UInt32 { PostgresTypeOID.bytea }
    public static var postgresArrayOID: UInt32 { PostgresTypeOID.bytea }
    public func appendPostgresBinary(to buffer: inout [UInt8]) { buffer.append(self) }
    /// `[UInt8]` is `bytea`, sent in binary.
    public static func encodeArray(_ elements: [UInt8]) -> PostgresBind {
        PostgresBind(typeOID: PostgresTypeOID.bytea, format: .binary, bytes: elements)
    }
    /// `[UInt8]` reads `bytea` (binary, or hex text).
    public static func decodeArray(_ cell: PostgresCell) throws -> [UInt8] {
        try PostgresByteaCodec.decode(cell)
    }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var big = value.bigEndian
        Swift.withUnsafeBytes(of: &big) { append(contentsOf: $0) }
    }
}

struct BigEndianReader {
    let raw: UnsafeRawBufferPointer
    var offset = 0
    init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }

    mutating func uint32() -> UInt32? {
        guard offset + 4 <= raw.count else { return nil }
        var value: UInt32 = 0
        for i in 0..<4 { value = value << 8 | UInt32(raw[offset + i]) }
        offset += 4
        return value
    }
    mutating func int32() -> Int32? { uint32().map { Int32(bitPattern: $0) } }
    mutating func bytes(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, offset + count <= raw.count else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: raw[offset..<offset + count])
    }
}
