/// Precision, recall and F1 of one class at one level of an evaluation.
public struct ClassMetrics: Sendable, Codable, Hashable {
    /// The class (a label, a high-level class or a morphology).
    public var name: String
    /// Of the predictions of this class, the share that fell inside their target; nil when the
    /// class was never predicted.
    public var precision: Double?
    /// Of the images whose target is exactly this class, the share predicted as it; nil when there
    /// are none.
    public var recall: Double?
    /// `2PR / (P + R)`, with a never-predicted class counting as P = 0; nil when `support` is 0.
    public var f1: Double?
    /// Images whose target is exactly this class.
    public var support: Int
    /// Images predicted as this class.
    public var predicted: Int

    /// The metrics of class `c` from a confusion matrix whose set rows count as correct for any member.
    public init(of c: Int, in matrix: ConfusionMatrix) {
        name = matrix.classes[c]
        support = matrix.support(c)
        predicted = matrix.predictedCount(c)
        let inside = matrix.rows.indices.reduce(0) {
            $0 + (matrix.rowMembers[$1].contains(c) ? matrix.counts[$1][c] : 0)
        }
        precision = predicted == 0 ? nil : Double(inside) / Double(predicted)
        recall = support == 0 ? nil : Double(matrix.counts[c][c]) / Double(support)
        if let recall {
            let p = precision ?? 0
            f1 = p + recall == 0 ? 0 : 2 * p * recall / (p + recall)
        } else {
            f1 = nil
        }
    }

    /// The mean F1 over the classes with support; nil when none has any.
    public static func macroF1(_ classes: [ClassMetrics]) -> Double? {
        let scores = classes.filter { $0.support > 0 }.compactMap(\.f1)
        return scores.isEmpty ? nil : scores.reduce(0, +) / Double(scores.count)
    }
}
