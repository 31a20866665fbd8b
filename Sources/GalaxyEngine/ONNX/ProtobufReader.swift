/// Protocol buffer wire types (the low three bits of a field tag).
enum WireType: Int {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
}

/// Reads protobuf wire format from a byte array, one field at a time. Every read checks bounds and
/// throws a `ModelError` naming the message and field being read, so a truncated or corrupt file is
/// refused with a message that says where it broke.
struct ProtobufReader {
    private let bytes: [UInt8]
    private(set) var position: Int
    private let end: Int
    /// The message being read, for errors ("ModelProto.graph.node[3]").
    let path: String

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.position = 0
        self.end = bytes.count
        self.path = path
    }

    private init(bytes: [UInt8], start: Int, end: Int, path: String) {
        self.bytes = bytes
        self.position = start
        self.end = end
        self.path = path
    }

    var isAtEnd: Bool { position >= end }

    private func fail(_ what: String) -> ModelError {
        ModelError(.corrupt, "corrupt or truncated ONNX file: \(what) in \(path) at byte \(position); re-export the model")
    }

    /// The next field's number and wire type, or nil at the end of this message.
    mutating func nextField() throws(ModelError) -> (number: Int, wire: WireType)? {
        if position >= end { return nil }
        let tag = try readVarint(field: "field tag")
        guard let wire = WireType(rawValue: Int(tag & 7)) else {
            throw fail("invalid wire type \(tag & 7)")
        }
        let number = Int(tag >> 3)
        guard number > 0 else { throw fail("field number 0") }
        if wire == .startGroup || wire == .endGroup { throw fail("unsupported group field \(number)") }
        return (number, wire)
    }

    mutating func readVarint(field: String) throws(ModelError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw fail("truncated varint \(field)") }
            let byte = bytes[position]
            position += 1
            if shift == 63 && byte > 1 { throw fail("overlong varint \(field)") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw fail("overlong varint \(field)") }
        }
    }

    mutating func readInt64(field: String) throws(ModelError) -> Int64 {
        Int64(bitPattern: try readVarint(field: field))
    }

    mutating func readInt32(field: String) throws(ModelError) -> Int32 {
        Int32(truncatingIfNeeded: Int64(bitPattern: try readVarint(field: field)))
    }

    mutating func readFixed32(field: String) throws(ModelError) -> UInt32 {
        guard end - position >= 4 else { throw fail("truncated 32-bit value \(field)") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return v
    }

    mutating func readFixed64(field: String) throws(ModelError) -> UInt64 {
        guard end - position >= 8 else { throw fail("truncated 64-bit value \(field)") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return v
    }

    mutating func readFloat(field: String) throws(ModelError) -> Float {
        Float(bitPattern: try readFixed32(field: field))
    }

    private mutating func readLength(field: String) throws(ModelError) -> Int {
        let length = try readVarint(field: "length of \(field)")
        guard length <= UInt64(end - position) else {
            throw fail("field \(field) claims \(length) bytes but only \(end - position) remain")
        }
        return Int(length)
    }

    mutating func readBytes(field: String) throws(ModelError) -> [UInt8] {
        let length = try readLength(field: field)
        let slice = Array(bytes[position..<(position + length)])
        position += length
        return slice
    }

    mutating func readString(field: String) throws(ModelError) -> String {
        let raw = try readBytes(field: field)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw fail("field \(field) is not valid UTF-8")
        }
        return text
    }

    /// A reader over an embedded message; the caller's position moves past it.
    mutating func readMessage(field: String, path subpath: String) throws(ModelError) -> ProtobufReader {
        let length = try readLength(field: field)
        let sub = ProtobufReader(bytes: bytes, start: position, end: position + length, path: subpath)
        position += length
        return sub
    }

    /// Skips a field this reader does not use.
    mutating func skip(_ wire: WireType, field: Int) throws(ModelError) {
        switch wire {
        case .varint: _ = try readVarint(field: "field \(field)")
        case .fixed64: _ = try readFixed64(field: "field \(field)")
        case .fixed32: _ = try readFixed32(field: "field \(field)")
        case .lengthDelimited: position += try readLength(field: "field \(field)")
        case .startGroup, .endGroup: throw fail("unsupported group field \(field)")
        }
    }

    /// Reads a repeated float field, packed or not.
    mutating func appendFloats(_ wire: WireType, field: String, to values: inout [Float]) throws(ModelError) {
        switch wire {
        case .fixed32: values.append(try readFloat(field: field))
        case .lengthDelimited:
            let length = try readLength(field: field)
            guard length % 4 == 0 else { throw fail("packed float field \(field) has \(length) bytes, not a multiple of 4") }
            let start = position
            values.reserveCapacity(values.count + length / 4)
            for i in 0..<(length / 4) {
                let o = start + 4 * i
                let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
                values.append(Float(bitPattern: bits))
            }
            position += length
        default: throw fail("field \(field) has wire type \(wire.rawValue), expected float")
        }
    }

    /// Reads a repeated double field, packed or not.
    mutating func appendDoubles(_ wire: WireType, field: String, to values: inout [Double]) throws(ModelError) {
        switch wire {
        case .fixed64: values.append(Double(bitPattern: try readFixed64(field: field)))
        case .lengthDelimited:
            let length = try readLength(field: field)
            guard length % 8 == 0 else { throw fail("packed double field \(field) has \(length) bytes, not a multiple of 8") }
            let stop = position + length
            while position < stop { values.append(Double(bitPattern: try readFixed64(field: field))) }
        default: throw fail("field \(field) has wire type \(wire.rawValue), expected double")
        }
    }

    /// Reads a repeated varint field (int64, int32, uint64), packed or not.
    mutating func appendVarints(_ wire: WireType, field: String, to values: inout [Int64]) throws(ModelError) {
        switch wire {
        case .varint: values.append(try readInt64(field: field))
        case .lengthDelimited:
            let length = try readLength(field: field)
            let stop = position + length
            var sub = ProtobufReader(bytes: bytes, start: position, end: stop, path: path)
            while !sub.isAtEnd { values.append(try sub.readInt64(field: field)) }
            position = stop
        default: throw fail("field \(field) has wire type \(wire.rawValue), expected integer")
        }
    }

    /// Throws unless `wire` is what the field's declared type uses.
    func expect(_ wire: WireType, _ expected: WireType, field: String) throws(ModelError) {
        guard wire == expected else {
            throw fail("field \(field) has wire type \(wire.rawValue), expected \(expected.rawValue)")
        }
    }
}
