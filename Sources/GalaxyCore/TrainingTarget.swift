/// What a catalog says about one image, over a vocabulary's label indices.
public enum TrainingTarget: Sendable, Hashable {
    /// Exactly this label.
    case label(Int)
    /// One of these labels, not which (a high-level class such as `Spiral`, or a set `Sa|Sb|Sc`);
    /// trained with the likelihood of the set, the log of its members' summed probabilities.
    /// Sorted, distinct, at least two.
    case anyOf([Int])
    /// Probabilities over all labels (vote fractions), summing to 1; trained with soft cross-entropy.
    case distribution([Float])

    /// The label indices the target allows: a prediction inside them counts as correct. For a
    /// distribution, its most probable labels.
    public var allowedLabels: [Int] {
        switch self {
        case .label(let i): return [i]
        case .anyOf(let members): return members
        case .distribution(let p):
            let top = p.max() ?? 0
            return p.indices.filter { p[$0] == top }
        }
    }

    /// The one label index used for stratified splits and class balance: the label itself, the
    /// set's first member, or the distribution's most probable label.
    public var representativeLabel: Int { allowedLabels[0] }

    /// A key that groups images with the same target for stratified splits and class balancing
    /// (`Er`, `Sa|Sb|Sc|Sd`, `~Er` for a distribution whose top label is Er).
    public func groupKey(in vocabulary: LabelVocabulary) -> String {
        switch self {
        case .label(let i): return vocabulary.labels[i]
        case .anyOf(let members): return members.map { vocabulary.labels[$0] }.joined(separator: "|")
        case .distribution: return "~" + vocabulary.labels[representativeLabel]
        }
    }
}

/// Turns a catalog's label text into a `TrainingTarget` under a vocabulary.
///
/// A label may be one of the vocabulary's labels (`Sb`), one of its high-level classes
/// (`Spiral`: any label of that class), or a set of either written with `|` (`Sa|Sb|Sc|Sd`).
/// Exact matches win; otherwise matching ignores case, so `spiral` and `sb` are understood.
public struct TargetParser: Sendable {
    public let vocabulary: LabelVocabulary

    public init(vocabulary: LabelVocabulary) {
        self.vocabulary = vocabulary
    }

    /// - Returns: nil for an empty label (an unlabelled row, which does not train).
    /// - Throws: `TargetError.unknownLabel` naming the part that is neither a label nor a class.
    public func parse(_ text: String) throws(TargetError) -> TrainingTarget? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return nil }
        var members: Set<Int> = []
        for part in trimmed.split(separator: "|", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces)
            let found = indices(named: name)
            guard !found.isEmpty else {
                throw .unknownLabel(name.isEmpty ? trimmed : name, known: vocabulary)
            }
            members.formUnion(found)
        }
        let sorted = members.sorted()
        return sorted.count == 1 ? .label(sorted[0]) : .anyOf(sorted)
    }

    /// A distribution from per-label probabilities (vote fractions), normalised to sum to 1.
    /// - Throws: `TargetError.badProbabilities` when a value is negative, not finite, or all are 0.
    public func distribution(_ values: [Float]) throws(TargetError) -> TrainingTarget {
        precondition(values.count == vocabulary.count, "one probability per label")
        guard values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw .badProbabilities("probabilities must be finite and non-negative, got \(values)")
        }
        let sum = values.reduce(0, +)
        guard sum > 0 else { throw .badProbabilities("all probabilities are 0") }
        return .distribution(values.map { $0 / sum })
    }

    private func indices(named name: String) -> [Int] {
        if let i = vocabulary.index(of: name) { return [i] }
        let byClass = vocabulary.classes.indices.filter { vocabulary.classes[$0] == name }
        if !byClass.isEmpty { return byClass }
        let lower = name.lowercased()
        if let i = vocabulary.labels.firstIndex(where: { $0.lowercased() == lower }) { return [i] }
        return vocabulary.classes.indices.filter { vocabulary.classes[$0].lowercased() == lower }
    }
}

/// A catalog label or probability row that does not fit the vocabulary.
public enum TargetError: Error, Equatable, CustomStringConvertible {
    case unknownLabel(String, known: LabelVocabulary)
    case badProbabilities(String)

    public var description: String {
        switch self {
        case .unknownLabel(let name, let vocabulary):
            return "label '\(name)' is neither one of the labels (\(vocabulary.labels.joined(separator: ", "))) "
                + "nor one of the classes (\(vocabulary.highLevelClasses.joined(separator: ", "))); "
                + "sets are written like Sa|Sb, and --labels gives a model its own vocabulary"
        case .badProbabilities(let reason): return reason
        }
    }
}
