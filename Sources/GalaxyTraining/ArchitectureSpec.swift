/// The `--arch` text form of an `Architecture` (without input size and classes, which come from the
/// data and the preprocessing): comma-separated settings, or a preset name.
///
/// `widths=32/64/128,depth=2,bn,gap,dense=0,dropout=0.3`; presets `classic` (the original
/// workflow's network) and `bn-gap` (the shipped model's).
public enum ArchitectureSpec {
    public static let presets: [String: String] = [
        "classic": "widths=32/64/64,depth=1,dense=128",
        "bn-gap": "widths=32/64/128,depth=1,bn,gap,dense=0,dropout=0.2",
    ]

    /// Applies the spec to `base` (which supplies input channels, size and classes).
    /// - Throws: `ArchitectureSpecError` naming the setting that is wrong and what is allowed.
    public static func parse(_ spec: String, base: Architecture = Architecture()) throws(ArchitectureSpecError) -> Architecture {
        let text = presets[spec.trimmingCharacters(in: .whitespaces)] ?? spec
        var arch = base
        // A spec describes the whole network: settings it leaves out take the classic values.
        arch.convChannels = [32, 64, 64]
        arch.depth = 1
        arch.batchNorm = false
        arch.globalPool = false
        arch.hidden = 128
        arch.dropout = 0
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let key = parts[0].lowercased()
            let value = parts.count == 2 ? parts[1] : nil
            func integer(_ range: ClosedRange<Int>) throws(ArchitectureSpecError) -> Int {
                guard let value, let n = Int(value), range.contains(n) else {
                    throw .invalid(entry: String(entry), expected: "\(key)=N with N in \(range.lowerBound)...\(range.upperBound)")
                }
                return n
            }
            switch key {
            case "widths":
                let widths = value?.split(separator: "/").compactMap { Int($0) } ?? []
                guard !widths.isEmpty, widths.count == value?.split(separator: "/").count, widths.allSatisfy({ (1...1024).contains($0) }) else {
                    throw .invalid(entry: String(entry), expected: "widths=W1/W2/... with each width in 1...1024")
                }
                arch.convChannels = widths
            case "depth": arch.depth = try integer(1...8)
            case "dense": arch.hidden = try integer(0...4096)
            case "bn" where value == nil: arch.batchNorm = true
            case "gap" where value == nil: arch.globalPool = true
            case "flatten" where value == nil: arch.globalPool = false
            case "dropout":
                guard let value, let p = Double(value), (0..<1).contains(p) else {
                    throw .invalid(entry: String(entry), expected: "dropout=P with 0 <= P < 1")
                }
                arch.dropout = p
            default:
                throw .invalid(
                    entry: String(entry),
                    expected: "one of widths=W1/W2/..., depth=N, bn, gap, flatten, dense=N, dropout=P, or a preset (\(presets.keys.sorted().joined(separator: ", ")))")
            }
        }
        guard arch.isValid else {
            throw .invalid(entry: spec, expected: "a network that keeps at least one pixel after its \(arch.convChannels.count) poolings of a \(arch.inputSize)x\(arch.inputSize) input")
        }
        return arch
    }

    /// The spec that `parse` turns back into `architecture`.
    public static func describe(_ architecture: Architecture) -> String {
        var parts = ["widths=" + architecture.convChannels.map(String.init).joined(separator: "/"), "depth=\(architecture.depth)"]
        if architecture.batchNorm { parts.append("bn") }
        parts.append(architecture.globalPool ? "gap" : "flatten")
        parts.append("dense=\(architecture.hidden)")
        if architecture.dropout > 0 { parts.append("dropout=\(architecture.dropout)") }
        return parts.joined(separator: ",")
    }
}

/// An `--arch` spec that does not describe a network.
public enum ArchitectureSpecError: Error, Equatable, CustomStringConvertible {
    case invalid(entry: String, expected: String)

    public var description: String {
        switch self {
        case .invalid(let entry, let expected): return "--arch: '\(entry)' is not valid; expected \(expected)"
        }
    }
}
