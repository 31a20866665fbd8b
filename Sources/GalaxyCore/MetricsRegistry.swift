import Foundation

/// A Prometheus registry: counters, gauges and histograms, rendered in the text exposition format
/// (version 0.0.4). One per process: the daemon's and the web app's series live side by side and
/// every `/metrics` endpoint renders it. Thread-safe; series are created on first use.
public final class MetricsRegistry: @unchecked Sendable {
    private enum Kind: String { case counter, gauge, histogram }

    private struct Family {
        var kind: Kind
        var help: String
        var buckets: [Double] = []
        /// Label text (`{a="b"}` or "") -> value, or histogram state.
        var values: [String: Double] = [:]
        var histograms: [String: HistogramState] = [:]
    }

    private struct HistogramState {
        var counts: [UInt64]
        var sum = 0.0
        var count: UInt64 = 0
    }

    private let lock = NSLock()
    private var families: [String: Family] = [:]
    private var order: [String] = []

    public init() {}

    /// Declares a counter (a value that only goes up).
    public func declareCounter(_ name: String, help: String) {
        declare(name, Family(kind: .counter, help: help))
    }

    /// Declares a gauge (a value that goes up and down).
    public func declareGauge(_ name: String, help: String) {
        declare(name, Family(kind: .gauge, help: help))
    }

    /// Declares a histogram with upper bucket bounds in increasing order (`+Inf` is added).
    public func declareHistogram(_ name: String, help: String, buckets: [Double]) {
        precondition(
            !buckets.isEmpty && zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 },
            "histogram \(name) needs increasing bucket bounds")
        declare(name, Family(kind: .histogram, help: help, buckets: buckets))
    }

    /// Adds `amount` (>= 0) to a counter.
    public func increment(_ name: String, by amount: Double = 1, labels: [(String, String)] = []) {
        precondition(amount >= 0, "counter \(name) only goes up")
        update(name, .counter) { family in family.values[Self.labelText(labels), default: 0] += amount }
    }

    /// Sets a gauge.
    public func set(_ name: String, to value: Double, labels: [(String, String)] = []) {
        update(name, .gauge) { family in family.values[Self.labelText(labels)] = value }
    }

    /// Adds `delta` (either sign) to a gauge.
    public func add(_ name: String, by delta: Double, labels: [(String, String)] = []) {
        update(name, .gauge) { family in family.values[Self.labelText(labels), default: 0] += delta }
    }

    /// Records one observation in a histogram.
    public func observe(_ name: String, _ value: Double, labels: [(String, String)] = []) {
        update(name, .histogram) { family in
            let key = Self.labelText(labels)
            var state =
                family.histograms[key]
                ?? HistogramState(counts: Array(repeating: 0, count: family.buckets.count))
            if let bucket = family.buckets.firstIndex(where: { value <= $0 }) { state.counts[bucket] += 1 }
            state.sum += value
            state.count += 1
            family.histograms[key] = state
        }
    }

    /// The current value of a counter or gauge series (0 when never set).
    public func value(_ name: String, labels: [(String, String)] = []) -> Double {
        lock.lock()
        defer { lock.unlock() }
        return families[name]?.values[Self.labelText(labels)] ?? 0
    }

    /// The number of observations of a histogram series.
    public func observationCount(_ name: String, labels: [(String, String)] = []) -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return families[name]?.histograms[Self.labelText(labels)]?.count ?? 0
    }

    /// Every series in the Prometheus text exposition format, families in declaration order.
    public func prometheusText() -> String {
        lock.lock()
        defer { lock.unlock() }
        var out = ""
        for name in order {
            guard let family = families[name] else { continue }
            out += "# HELP \(name) \(Self.escapeHelp(family.help))\n# TYPE \(name) \(family.kind.rawValue)\n"
            switch family.kind {
            case .counter, .gauge:
                let series = family.values.isEmpty && family.kind == .counter ? ["": 0] : family.values
                for key in series.keys.sorted() {
                    out += "\(name)\(key) \(Self.format(series[key]!))\n"
                }
            case .histogram:
                for key in family.histograms.keys.sorted() {
                    let state = family.histograms[key]!
                    var cumulative: UInt64 = 0
                    for (bound, count) in zip(family.buckets, state.counts) {
                        cumulative += count
                        out += "\(name)_bucket\(Self.addLabel(key, "le", Self.format(bound))) \(cumulative)\n"
                    }
                    out += "\(name)_bucket\(Self.addLabel(key, "le", "+Inf")) \(state.count)\n"
                    out += "\(name)_sum\(key) \(Self.format(state.sum))\n"
                    out += "\(name)_count\(key) \(state.count)\n"
                }
            }
        }
        return out
    }

    /// Declaring a family again (two parts of one process sharing the registry) keeps its series.
    private func declare(_ name: String, _ family: Family) {
        precondition(Self.isValidName(name), "'\(name)' is not a Prometheus metric name")
        lock.lock()
        defer { lock.unlock() }
        if let existing = families[name] {
            precondition(
                existing.kind == family.kind && existing.buckets == family.buckets,
                "metric \(name) is declared twice with different kinds or buckets")
            return
        }
        order.append(name)
        families[name] = family
    }

    private func update(_ name: String, _ kind: Kind, _ body: (inout Family) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        guard var family = families[name] else { preconditionFailure("metric \(name) is not declared") }
        precondition(
            family.kind == kind, "metric \(name) is a \(family.kind.rawValue), not a \(kind.rawValue)")
        body(&family)
        families[name] = family
    }

    private static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first,
            first.properties.isAlphabetic || first == "_" || first == ":"
        else { return false }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ":")
        }
    }

    private static func labelText(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        let sorted = labels.sorted { $0.0 < $1.0 }
        return "{" + sorted.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
    }

    private static func addLabel(_ key: String, _ name: String, _ value: String) -> String {
        let label = "\(name)=\"\(value)\""
        return key.isEmpty ? "{\(label)}" : String(key.dropLast()) + ",\(label)}"
    }

    private static func escapeLabel(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func escapeHelp(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
