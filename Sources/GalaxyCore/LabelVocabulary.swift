/// The labels a model emits, in output order, and the high-level class of each.
///
/// The 13 Galaxy Zoo labels collapse into Ambiguous, Elliptical, Spiral and BarredSpiral
/// (`GalaxyLabels`); a model with its own taxonomy (Galaxy Zoo 1, Galaxy10, ...) names the class of
/// every label itself, and that map travels in the model's metadata (`galaxy.classes`).
public struct LabelVocabulary: Sendable, Hashable, Codable {
    /// Labels in output order.
    public let labels: [String]
    /// `classes[i]` is the high-level class of `labels[i]`.
    public let classes: [String]

    /// The 13 standard labels and their standard collapse.
    public static let standard = LabelVocabulary(
        uncheckedLabels: GalaxyLabels.standard, classes: GalaxyLabels.standard.map(GalaxyLabels.highLevelClass(of:)))

    /// - Throws: `LabelVocabularyError` when the lists differ in length, a label is empty or repeated.
    public init(labels: [String], classes: [String]) throws(LabelVocabularyError) {
        guard labels.count == classes.count else {
            throw .invalid("\(labels.count) labels but \(classes.count) classes")
        }
        guard labels.count >= 2 else { throw .invalid("a model needs at least two labels, got \(labels.count)") }
        if let empty = labels.firstIndex(where: \.isEmpty) ?? classes.firstIndex(where: \.isEmpty) {
            throw .invalid("label or class \(empty + 1) is empty")
        }
        var seen: Set<String> = []
        for label in labels where !seen.insert(label).inserted {
            throw .invalid("label '\(label)' appears twice")
        }
        self.init(uncheckedLabels: labels, classes: classes)
    }

    /// Labels with the standard collapse (labels outside the 13 map to themselves).
    public init(labels: [String]) throws(LabelVocabularyError) {
        try self.init(labels: labels, classes: labels.map(GalaxyLabels.highLevelClass(of:)))
    }

    /// Parses `--labels`: comma-separated `label=Class` pairs, or bare labels that take the standard
    /// collapse, e.g. `elliptical=Elliptical,spiral=Spiral,edge_on=Spiral,merger=Ambiguous`.
    /// - Throws: `LabelVocabularyError` naming the entry that is wrong.
    public init(spec: String) throws(LabelVocabularyError) {
        var labels: [String] = []
        var classes: [String] = []
        for entry in spec.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = entry.split(separator: "=", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard (1...2).contains(parts.count), !parts[0].isEmpty, parts.count == 1 || !parts[1].isEmpty else {
                throw .invalid("'\(entry)' is not `label` or `label=Class`")
            }
            labels.append(parts[0])
            classes.append(parts.count == 2 ? parts[1] : GalaxyLabels.highLevelClass(of: parts[0]))
        }
        try self.init(labels: labels, classes: classes)
    }

    private init(uncheckedLabels labels: [String], classes: [String]) {
        self.labels = labels
        self.classes = classes
    }

    public var count: Int { labels.count }

    /// Whether this is the 13-label vocabulary with the standard collapse.
    public var isStandard: Bool { self == Self.standard }

    /// The distinct high-level classes, the standard four first in report order, then the others
    /// in order of first appearance.
    public var highLevelClasses: [String] {
        var result = GalaxyLabels.highLevelClasses.filter(classes.contains)
        for c in classes where !result.contains(c) { result.append(c) }
        return result
    }

    /// The index of `label`, if it is one of the labels.
    public func index(of label: String) -> Int? { labels.firstIndex(of: label) }

    /// The high-level class of `label`, or nil when it is not one of the labels.
    public func highLevelClass(of label: String) -> String? {
        index(of: label).map { classes[$0] }
    }

    /// The `galaxy.classes` metadata value: one class per label, comma-separated.
    public var classesMetadata: String { classes.joined(separator: ",") }
}

/// A label list that cannot be a model's vocabulary.
public enum LabelVocabularyError: Error, Equatable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let reason): return "invalid label vocabulary: \(reason)"
        }
    }
}

/// The coarse morphology every evaluation reports, whatever the vocabulary: Elliptical, disk
/// (Spiral or BarredSpiral) or Ambiguous. Catalogs such as Galaxy Zoo 1 say no more than this.
public enum Morphology: String, Sendable, CaseIterable, Codable {
    case elliptical = "Elliptical"
    case disk = "disk"
    case ambiguous = "Ambiguous"

    /// The morphology of a high-level class; classes outside the standard four have none.
    public init?(highLevelClass: String) {
        switch highLevelClass {
        case "Elliptical": self = .elliptical
        case "Spiral", "BarredSpiral": self = .disk
        case "Ambiguous": self = .ambiguous
        default: return nil
        }
    }
}
