import Foundation

/// Counts of (true class, predicted class) pairs, with per-class error rates and a text table.
public struct ConfusionMatrix: Sendable, Codable, Hashable {
    public let classes: [String]
    /// `counts[truth][predicted]`.
    public private(set) var counts: [[Int]]

    public init(classes: [String]) {
        self.classes = classes
        counts = Array(repeating: Array(repeating: 0, count: classes.count), count: classes.count)
    }

    public mutating func add(truth: Int, predicted: Int) {
        counts[truth][predicted] += 1
    }

    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    public var correct: Int { classes.indices.reduce(0) { $0 + counts[$1][$1] } }
    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    /// Samples of class `i`.
    public func support(_ i: Int) -> Int { counts[i].reduce(0, +) }

    /// The fraction of class `i` predicted as something else (nil when the class has no samples).
    public func errorRate(_ i: Int) -> Double? {
        let n = support(i)
        return n == 0 ? nil : Double(n - counts[i][i]) / Double(n)
    }

    /// Rows are the true class, columns the prediction, then support and error rate.
    public func table(title: String) -> String {
        let width = max(6, (classes.map(\.count).max() ?? 0) + 1)
        func pad(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        var lines = ["\(title) (rows: true class, columns: predicted; accuracy \(String(format: "%.2f%%", accuracy * 100)), error \(String(format: "%.2f%%", (1 - accuracy) * 100)))"]
        lines.append(pad("") + classes.map(pad).joined() + pad("n") + pad("error"))
        for (i, name) in classes.enumerated() {
            let rate = errorRate(i).map { String(format: "%.1f%%", $0 * 100) } ?? "-"
            lines.append(pad(name) + counts[i].map { pad(String($0)) }.joined() + pad(String(support(i))) + pad(rate))
        }
        return lines.joined(separator: "\n")
    }

    /// Collapses a low-level matrix into the high-level classes given by `classOf`.
    public func collapsed(into highLevel: [String], classOf: (String) -> String) -> ConfusionMatrix {
        var result = ConfusionMatrix(classes: highLevel)
        let map = classes.map { highLevel.firstIndex(of: classOf($0)) }
        for t in classes.indices {
            for p in classes.indices where counts[t][p] > 0 {
                guard let ht = map[t], let hp = map[p] else { continue }
                result.counts[ht][hp] += counts[t][p]
            }
        }
        return result
    }
}
