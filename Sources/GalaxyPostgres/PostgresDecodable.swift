import Foundation

/// A Swift value that can be read from a result cell, in text or binary format.
public protocol PostgresDecodable {
    /// Reads the value from `cell`.
    /// - Throws: `PostgresError` of kind `.decoding` when the cell is NULL (unless the type is
    ///   optional) or holds a type this one does not read.
    init(postgresCell cell: PostgresCell) throws
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        if cell.isNull { self = .none } else { self = .some(try Wrapped(postgresCell: cell)) }
    }
}

extension PostgresCell {
    func nonNull(_ type: Any.Type) throws -> UnsafeRawBufferPointer {
        guard let raw else { throw decodingError(type, "the value is NULL; decode an optional") }
        return raw
    }

    /// The value as text when it is in text format or a text-like type.
    func textValue(_ type: Any.Type) throws -> String? {
        let raw = try nonNull(type)
        if format == .text || PostgresTypeOID.textLike.contains(typeOID) {
            return String(decoding: raw, as: UTF8.self)
        }
        if typeOID == PostgresTypeOID.jsonb, raw.count >= 1, raw[0] == 1 {
            return String(decoding: UnsafeRawBufferPointer(rebasing: raw.dropFirst()), as: UTF8.self)
        }
        return nil
    }

    func bigEndianInteger<T: FixedWidthInteger>(_ raw: UnsafeRawBufferPointer, _: T.Type) -> T {
        var value: T = 0
        for byte in raw { value = value << 8 | T(truncatingIfNeeded: byte) }
        return value
    }

    /// An integer from int2/int4/int8/oid in binary or any integer text.
    func integer(_ type: Any.Type) throws -> Int64 {
        if let text = try textValue(type) {
            guard let value = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                throw decodingError(type, "'\(text.prefix(40))' is not an integer")
            }
            return value
        }
        let raw = try nonNull(type)
        switch (typeOID, raw.count) {
        case (PostgresTypeOID.int8, 8): return bigEndianInteger(raw, Int64.self)
        case (PostgresTypeOID.int4, 4): return Int64(bigEndianInteger(raw, Int32.self))
        case (PostgresTypeOID.int2, 2): return Int64(bigEndianInteger(raw, Int16.self))
        case (PostgresTypeOID.oid, 4): return Int64(bigEndianInteger(raw, UInt32.self))
        case (PostgresTypeOID.numeric, _):
            let text = try PostgresNumeric.string(raw)
            guard let value = Int64(text) else { throw decodingError(type, "\(text) is not an integer") }
            return value
        default: throw decodingError(type)
        }
    }

    /// A floating-point number from float4/float8/numeric/integers in binary or any number text.
    func floatingPoint(_ type: Any.Type) throws -> Double {
        if let text = try textValue(type) {
            switch text.lowercased() {
            case "nan": return .nan
            case "infinity": return .infinity
            case "-infinity": return -.infinity
            default:
                guard let value = Double(text) else { throw decodingError(type, "'\(text.prefix(40))' is not a number") }
                return value
            }
        }
        let raw = try nonNull(type)
        switch (typeOID, raw.count) {
        case (PostgresTypeOID.float8, 8): return Double(bitPattern: bigEndianInteger(raw, UInt64.self))
        case (PostgresTypeOID.float4, 4): return Double(Float(bitPattern: bigEndianInteger(raw, UInt32.self)))
        case (PostgresTypeOID.numeric, _):
            let text = try PostgresNumeric.string(raw)
            return text == "NaN" ? .nan : (Double(text) ?? .nan)
        case (PostgresTypeOID.int8, _), (PostgresTypeOID.int4, _), (PostgresTypeOID.int2, _):
            return Double(try integer(type))
        default: throw decodingError(type)
        }
    }
}

extension Int64: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws { self = try cell.integer(Int64.self) }
}
extension Int: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws { self = Int(try cell.integer(Int.self)) }
}
extension Int32: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        let value = try cell.integer(Int32.self)
        guard let narrowed = Int32(exactly: value) else { throw cell.decodingError(Int32.self, "\(value) does not fit") }
        self = narrowed
    }
}
extension Int16: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        let value = try cell.integer(Int16.self)
        guard let narrowed = Int16(exactly: value) else { throw cell.decodingError(Int16.self, "\(value) does not fit") }
        self = narrowed
    }
}
extension Double: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws { self = try cell.floatingPoint(Double.self) }
}
extension Float: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws { self = Float(try cell.floatingPoint(Float.self)) }
}

extension Bool: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        if let text = try cell.textValue(Bool.self) {
            switch text.lowercased() {
            case "t", "true", "on", "yes", "1": self = true
            case "f", "false", "off", "no", "0": self = false
            default: throw cell.decodingError(Bool.self, "'\(text.prefix(20))' is not a boolean")
            }
            return
        }
        let raw = try cell.nonNull(Bool.self)
        guard cell.typeOID == PostgresTypeOID.bool, raw.count == 1 else { throw cell.decodingError(Bool.self) }
        self = raw[0] != 0
    }
}

extension String: PostgresDecodable {
    /// Reads text-like types, `jsonb`, and renders numbers, booleans, `uuid` and timestamps as text.
    /// Other binary types (enums, domains over text) are read as UTF-8 when valid.
    public init(postgresCell cell: PostgresCell) throws {
        if let text = try cell.textValue(String.self) {
            self = text
            return
        }
        let raw = try cell.nonNull(String.self)
        switch cell.typeOID {
        case PostgresTypeOID.int2, PostgresTypeOID.int4, PostgresTypeOID.int8, PostgresTypeOID.oid:
            self = String(try cell.integer(String.self))
        case PostgresTypeOID.float4, PostgresTypeOID.float8:
            self = String(try cell.floatingPoint(String.self))
        case PostgresTypeOID.numeric:
            self = try PostgresNumeric.string(raw)
        case PostgresTypeOID.bool:
            self = try Bool(postgresCell: cell) ? "true" : "false"
        case PostgresTypeOID.uuid where raw.count == 16:
            let hex = raw.map { String(format: "%02x", $0) }.joined()
            let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
                String(hex[hex.index(hex.startIndex, offsetBy: range.lowerBound)..<hex.index(hex.startIndex, offsetBy: range.upperBound)])
            }
            self = parts.joined(separator: "-")
        case PostgresTypeOID.timestamptz, PostgresTypeOID.timestamp:
            self = PostgresText.timestamp(try Date(postgresCell: cell))
        case PostgresTypeOID.bytea:
            throw cell.decodingError(String.self, "bytea is read as [UInt8]")
        default:
            guard let text = String(validating: raw, as: UTF8.self) else { throw cell.decodingError(String.self) }
            self = text
        }
    }
}

extension PostgresJSONB: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        guard let text = try cell.textValue(PostgresJSONB.self) else { throw cell.decodingError(PostgresJSONB.self) }
        self.init(text)
    }
}

extension PostgresBytea: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        self.init(try PostgresByteaCodec.decode(cell))
    }
}

enum PostgresByteaCodec {
    /// Binary bytea is the bytes; text bytea is `\x` followed by hex.
    static func decode(_ cell: PostgresCell) throws -> [UInt8] {
        let raw = try cell.nonNull([UInt8].self)
        if cell.format == .binary {
            guard cell.typeOID == PostgresTypeOID.bytea else { throw cell.decodingError([UInt8].self) }
            return Array(raw)
        }
        guard raw.count >= 2, raw[0] == UInt8(ascii: "\\"), raw[1] == UInt8(ascii: "x"), raw.count % 2 == 0 else {
            throw cell.decodingError([UInt8].self, "text bytea is not in hex format")
        }
        func nibble(_ c: UInt8) throws -> UInt8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: throw cell.decodingError([UInt8].self, "invalid hex digit")
            }
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity((raw.count - 2) / 2)
        var i = 2
        while i < raw.count {
            bytes.append(try nibble(raw[i]) << 4 | nibble(raw[i + 1]))
            i += 2
        }
        return bytes
    }
}

extension Date: PostgresDecodable {
    /// Reads `timestamptz`, `timestamp` (as UTC) and `date` in binary format.
    public init(postgresCell cell: PostgresCell) throws {
        let raw = try cell.nonNull(Date.self)
        guard cell.format == .binary else {
            throw cell.decodingError(Date.self, "timestamps are read in binary format only")
        }
        switch (cell.typeOID, raw.count) {
        case (PostgresTypeOID.timestamptz, 8), (PostgresTypeOID.timestamp, 8):
            let micros = cell.bigEndianInteger(raw, Int64.self)
            if micros == Int64.max { self = .distantFuture; return }
            if micros == Int64.min { self = .distantPast; return }
            self = PostgresTime.date(microsecondsSince2000: micros)
        case (PostgresTypeOID.date, 4):
            let days = cell.bigEndianInteger(raw, Int32.self)
            self = PostgresTime.date(microsecondsSince2000: Int64(days) * 86_400_000_000)
        default:
            throw cell.decodingError(Date.self)
        }
    }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    /// Reads a one-dimensional array in binary format (`[UInt8]` reads `bytea`).
    public init(postgresCell cell: PostgresCell) throws {
        self = try Element.decodeArray(cell)
    }
}

/// Binary `numeric` to its decimal text.
enum PostgresNumeric {
    static func string(_ raw: UnsafeRawBufferPointer) throws -> String {
        func int16(_ at: Int) -> Int {
            Int(Int16(bitPattern: UInt16(raw[at]) << 8 | UInt16(raw[at + 1])))
        }
        guard raw.count >= 8 else {
            throw PostgresError(kind: .decoding, message: "numeric value is too short (\(raw.count) bytes)")
        }
        let ndigits = int16(0)
        let weight = int16(2)
        let sign = UInt16(bitPattern: Int16(int16(4)))
        let dscale = int16(6)
        guard raw.count >= 8 + 2 * ndigits else {
            throw PostgresError(kind: .decoding, message: "numeric value is truncated")
        }
        switch sign {
        case 0xC000: return "NaN"
        case 0xD000: return "Infinity"
        case 0xF000: return "-Infinity"
        default: break
        }
        let digits = (0..<ndigits).map { int16(8 + 2 * $0) }
        // Integer part: base-10000 digits at positions 0...weight.
        var integer = ""
        if weight < 0 {
            integer = "0"
        } else {
            for i in 0...weight {
                let d = i < digits.count ? digits[i] : 0
                integer += i == 0 ? String(d) : String(format: "%04d", d)
            }
        }
        var fraction = ""
        if dscale > 0 {
            var i = weight + 1
            while fraction.count < dscale {
                let d = i >= 0 && i < digits.count ? digits[i] : 0
                fraction += String(format: "%04d", d)
                i += 1
            }
            fraction = String(fraction.prefix(dscale))
        }
        let body = fraction.isEmpty ? integer : integer + "." + fraction
        return sign == 0x4000 ? "-" + body : body
    }
}
