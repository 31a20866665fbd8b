import Foundation

/// Counts of (true class, predicted class) pairs, with per-class error rates and a text table.
///
/// Rows are the truth and columns the prediction. Every class has its row, in `classes` order; a
/// truth that allows several classes (a set such as `Spiral|BarredSpiral`) gets a row of its own
/// after them, and a prediction counts as correct when it is any member of its row.
public struct ConfusionMatrix: Sendable, Codable, Hashable {
    /// The predicted classes (the columns), which are also the first rows.
    public let classes: [String]
    /// Row names: `classes`, then one `A|B` row per set truth seen, in order of their members.
    public private(set) var rows: [String]
    /// For every row, the columns that count as correct (`[i]` for class row `i`).
    public private(set) var rowMembers: [[Int]]
    /// `counts[row][predicted]`.
    public private(set) var counts: [[Int]]

    public init(classes: [String]) {
        self.classes = classes
        rows = classes
        rowMembers = classes.indices.map { [$0] }
        counts = Array(repeating: Array(repeating: 0, count: classes.count), count: classes.count)
    }

    /// Counts one sample whose truth is class `truth` (a row index below `classes.count`).
    public mutating func add(truth: Int, predicted: Int) {
        counts[truth][predicted] += 1
    }

    /// Counts one sample whose truth allows the classes `truths` (one class, or a set that gets
    /// its own row, added on first use).
    public mutating func add(truths: [Int], predicted: Int) {
        counts[row(for: truths)][predicted] += 1
    }

    /// The row of the truth that allows exactly `members`, added when it is new.
    public mutating func row(for members: [Int]) -> Int {
        let members = Array(Set(members)).sorted()
        precondition(!members.isEmpty && members.allSatisfy(classes.indices.contains), "ConfusionMatrix: truth outside the classes")
        if members.count == 1 { return members[0] }
        if let existing = rowMembers.firstIndex(of: members) { return existing }
        // Set rows stay in the order of their members, so a report does not depend on image order.
        let position = rowMembers[classes.count...].firstIndex { $0.lexicographicallyPrecedes(members) == false } ?? rows.count
        rows.insert(members.map { classes[$0] }.joined(separator: "|"), at: position)
        rowMembers.insert(members, at: position)
        counts.insert(Array(repeating: 0, count: classes.count), at: position)
        return position
    }

    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    /// Samples predicted as a member of their row.
    public var correct: Int { rows.indices.reduce(0) { $0 + correct(inRow: $1) } }
    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    /// Samples of row `i` (class `i` when `i < classes.count`).
    public func support(_ i: Int) -> Int { counts[i].reduce(0, +) }

    /// Samples of row `i` predicted as one of its members.
    public func correct(inRow i: Int) -> Int { rowMembers[i].reduce(0) { $0 + counts[i][$1] } }

    /// Samples predicted as class `j`, whatever their truth.
    public func predictedCount(_ j: Int) -> Int { counts.reduce(0) { $0 + $1[j] } }

    /// The fraction of row `i` predicted outside its members (nil when the row has no samples).
    public func errorRate(_ i: Int) -> Double? {
        let n = support(i)
        return n == 0 ? nil : Double(n - correct(inRow: i)) / Double(n)
    }

    /// Rows are the truth, columns the prediction, then support and error rate.
    public func table(title: String) -> String {
        // Columns as wide as the longest class name or count; a long set row name widens only the
        // row-name column.
        let widest = max(classes.map(\.count).max() ?? 0, String(total).count, "100.0%".count)
        let width = max(6, widest + 1)
        let rowWidth = max(width, (rows.map(\.count).max() ?? 0) + 1)
        func pad(_ s: String, _ w: Int = width) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        var lines = ["\(title) (rows: true class, columns: predicted; accuracy \(String(format: "%.2f%%", accuracy * 100)), error \(String(format: "%.2f%%", (1 - accuracy) * 100)))"]
        lines.append(pad("", rowWidth) + classes.map { pad($0) }.joined() + pad("n") + pad("error"))
        for (i, name) in rows.enumerated() {
            let rate = errorRate(i).map { String(format: "%.1f%%", $0 * 100) } ?? "-"
            lines.append(pad(name, rowWidth) + counts[i].map { pad(String($0)) }.joined() + pad(String(support(i))) + pad(rate))
        }
        return lines.joined(separator: "\n")
    }

    /// Collapses a matrix into the coarser classes given by `classOf`; a set row becomes the set of
    /// its members' classes (one class row when they share one).
    public func collapsed(into coarse: [String], classOf: (String) -> String) -> ConfusionMatrix {
        var result = ConfusionMatrix(classes: coarse)
        let map = classes.map { coarse.firstIndex(of: classOf($0)) }
        for t in rows.indices {
            let members = rowMembers[t].compactMap { map[$0] }
            guard members.count == rowMembers[t].count else { continue }
            let row = result.row(for: members)
            for p in classes.indices where counts[t][p] > 0 {
                guard let hp = map[p] else { continue }
                result.counts[row][hp] += counts[t][p]
            }
        }
        return result
    }
}
