/// The figures of one level: accuracy, the confusion matrix, per-class precision/recall/F1,
/// macro-F1 and calibration.
///
/// A prediction is the most probable group (probabilities summed per group) and is correct when
/// it is one of the groups the target allows.
public struct LevelEvaluation: Sendable, Codable, Hashable {
    public var level: EvaluationLevel
    /// The groups (the matrix's columns and first rows).
    public var groups: [String]
    /// Images counted at this level.
    public var count: Int
    /// Images predicted inside their target.
    public var correct: Int
    /// Rows: the target's group (a set spanning several groups has its own `A|B` row); columns:
    /// the predicted group.
    public var matrix: ConfusionMatrix
    /// One entry per group, in `groups` order.
    public var classes: [ClassMetrics]
    /// Mean F1 over the groups with support; nil when none has any.
    public var macroF1: Double?
    /// Reliability bins and ECE; the confidence is the predicted group's summed probability.
    public var calibration: Calibration

    /// `correct / count`; nil when nothing was counted.
    public var accuracy: Double?

    /// - Parameters:
    ///   - grouping: the level's groups.
    ///   - probabilities: per image, the model's probabilities over the vocabulary's labels.
    ///   - allowedLabels: per image, the labels its target allows, or nil when the image does not
    ///     count at this level.
    public init(
        grouping: LevelGrouping, probabilities: [[Float]], allowedLabels: [[Int]?],
        binCount: Int = Calibration.standardBinCount
    ) {
        precondition(probabilities.count == allowedLabels.count, "LevelEvaluation: one target per image")
        var matrix = ConfusionMatrix(classes: grouping.groups)
        var confidences: [Double] = []
        var flags: [Bool] = []
        for (p, allowed) in zip(probabilities, allowedLabels) {
            guard let allowed else { continue }
            let sums = grouping.groupProbabilities(p)
            var predicted = 0
            for g in sums.indices where sums[g] > sums[predicted] { predicted = g }
            let targetGroups = grouping.groups(of: allowed)
            matrix.add(truths: targetGroups, predicted: predicted)
            confidences.append(sums[predicted])
            flags.append(targetGroups.contains(predicted))
        }
        level = grouping.level
        groups = grouping.groups
        count = flags.count
        correct = flags.filter { $0 }.count
        accuracy = count == 0 ? nil : Double(correct) / Double(count)
        self.matrix = matrix
        classes = grouping.groups.indices.map { ClassMetrics(of: $0, in: matrix) }
        macroF1 = ClassMetrics.macroF1(classes)
        calibration = Calibration(confidences: confidences, correct: flags, binCount: binCount)
    }
}
