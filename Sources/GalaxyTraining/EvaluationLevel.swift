import GalaxyCore

/// The three levels an evaluation reports: the model's labels, their high-level classes, and the
/// coarse morphology (Elliptical, disk, Ambiguous).
public enum EvaluationLevel: String, Sendable, Codable, CaseIterable {
    case low = "low-level"
    case high = "high-level"
    case morphology
}

/// How a vocabulary's labels fall into the groups of one level; a group's probability is the sum
/// of its labels' probabilities.
public struct LevelGrouping: Sendable, Hashable {
    public let level: EvaluationLevel
    /// The groups, in report order.
    public let groups: [String]
    /// `groupOfLabel[i]` is the group index of label `i`.
    public let groupOfLabel: [Int]

    /// The grouping of `level` under `vocabulary`; nil for the morphology when the vocabulary has
    /// classes outside Ambiguous, Elliptical, Spiral and BarredSpiral.
    public init?(_ level: EvaluationLevel, vocabulary: LabelVocabulary) {
        self.level = level
        switch level {
        case .low:
            groups = vocabulary.labels
            groupOfLabel = Array(vocabulary.labels.indices)
        case .high:
            let classes = vocabulary.highLevelClasses
            groups = classes
            groupOfLabel = vocabulary.classes.map { classes.firstIndex(of: $0)! }
        case .morphology:
            let perLabel = vocabulary.classes.map(Morphology.init(highLevelClass:))
            guard perLabel.allSatisfy({ $0 != nil }) else { return nil }
            let present = Morphology.allCases.filter { m in perLabel.contains(m) }
            groups = present.map(\.rawValue)
            groupOfLabel = perLabel.map { present.firstIndex(of: $0!)! }
        }
    }

    /// Probabilities summed per group.
    public func groupProbabilities(_ probabilities: [Float]) -> [Double] {
        var sums = [Double](repeating: 0, count: groups.count)
        for (i, p) in probabilities.enumerated() { sums[groupOfLabel[i]] += Double(p) }
        return sums
    }

    /// The groups of a target's allowed labels.
    public func groups(of allowedLabels: [Int]) -> [Int] {
        Array(Set(allowedLabels.map { groupOfLabel[$0] })).sorted()
    }
}
