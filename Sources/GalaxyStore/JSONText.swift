import Foundation

/// Small, exact JSON writers for the values the service records (no Foundation round trips, keys
/// sorted so the text is stable).
public enum JSONText {
    /// `{"label": probability, ...}` with keys sorted.
    public static func object(_ values: [String: Float]) -> String {
        "{"
            + values.keys.sorted().map { "\(string($0)):\(number(values[$0]!))" }.joined(
                separator: ",") + "}"
    }

    /// A JSON object from already-encoded member values, keys sorted.
    public static func object(encoded members: [String: String]) -> String {
        "{" + members.keys.sorted().map { "\(string($0)):\(members[$0]!)" }.joined(separator: ",") + "}"
    }

    /// A JSON array of strings.
    public static func array(_ values: [String]) -> String {
        "[" + values.map(string).joined(separator: ",") + "]"
    }

    /// A JSON array of numbers.
    public static func array(_ values: [Double]) -> String {
        "[" + values.map(number).joined(separator: ",") + "]"
    }

    /// A JSON array of float32 numbers, each written as `number(_: Float)` does.
    public static func array(_ values: [Float]) -> String {
        "[" + values.map(number).joined(separator: ",") + "]"
    }

    /// A float32 as the shortest decimal that reads back as the same float32: 0.1 stays `0.1`,
    /// where going through `Double` would write 0.10000000149011612.
    public static func number(_ value: Float) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e7 { return String(Int64(value)) }
        return value.description
    }

    /// A JSON number; non-finite values (which JSON cannot hold) become null.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A JSON string literal.
    public static func string(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let s where s.value < 0x20: out += String(format: "\\u%04x", s.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
