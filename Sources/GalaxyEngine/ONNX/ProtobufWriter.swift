/// Writes protobuf wire format. Fields are written in the order the caller gives; empty optional
/// fields are left out by the callers, as proto2 encoders do.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func writeTag(_ field: Int, _ wire: WireType) {
        writeVarint(UInt64(field << 3 | wire.rawValue))
    }

    mutating func writeInt64(_ field: Int, _ value: Int64) {
        writeTag(field, .varint)
        writeVarint(UInt64(bitPattern: value))
    }

    mutating func writeFloat(_ field: Int, _ value: Float) {
        writeTag(field, .fixed32)
        appendFixed32(value.bitPattern)
    }

    private mutating func appendFixed32(_ bits: UInt32) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(i)))) }
    }

    private mutating func appendFixed64(_ bits: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))) }
    }

    mutating func writeBytes(_ field: Int, _ value: [UInt8]) {
        writeTag(field, .lengthDelimited)
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func writeString(_ field: Int, _ value: String) {
        writeBytes(field, Array(value.utf8))
    }

    mutating func writeMessage(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        var sub = ProtobufWriter()
        body(&sub)
        writeBytes(field, sub.bytes)
    }

    mutating func writePackedFloats(_ field: Int, _ values: [Float]) {
        guard !values.isEmpty else { return }
        writeTag(field, .lengthDelimited)
        writeVarint(UInt64(values.count * 4))
        bytes.reserveCapacity(bytes.count + values.count * 4)
        for v in values { appendFixed32(v.bitPattern) }
    }

    mutating func writePackedDoubles(_ field: Int, _ values: [Double]) {
        guard !values.isEmpty else { return }
        writeTag(field, .lengthDelimited)
        writeVarint(UInt64(values.count * 8))
        for v in values { appendFixed64(v.bitPattern) }
    }

    mutating func writePackedVarints(_ field: Int, _ values: [Int64]) {
        guard !values.isEmpty else { return }
        var sub = ProtobufWriter()
        for v in values { sub.writeVarint(UInt64(bitPattern: v)) }
        writeBytes(field, sub.bytes)
    }

    /// Unpacked repeated varints (proto2's default for `repeated int64` without `packed`).
    mutating func writeRepeatedVarints(_ field: Int, _ values: [Int64]) {
        for v in values { writeInt64(field, v) }
    }

    /// Unpacked repeated floats.
    mutating func writeRepeatedFloats(_ field: Int, _ values: [Float]) {
        for v in values { writeFloat(field, v) }
    }
}
