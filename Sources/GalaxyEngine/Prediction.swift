import Foundation
import GalaxyCore

/// One image's classification: its high-level class, the most probable label inside that class,
/// and every label's probability.
///
/// The class is chosen as Galaxy Zoo's decision tree asks: first the morphology (Elliptical, disk
/// or Ambiguous) whose labels have the largest summed probability, which is what `galaxy evaluate`
/// measures, then, for a disk, Spiral or BarredSpiral by their sums. The label is the most
/// probable label of that class, so the two never contradict each other. (Taking the single top
/// label's class instead calls a galaxy Elliptical at 0.3 when its spiral labels share 0.6; and
/// comparing the four classes at once calls it Elliptical at 0.4 when Spiral has 0.35 and
/// BarredSpiral 0.25.) A vocabulary with classes outside the standard four compares its classes
/// directly.
public struct Prediction: Sendable, Codable, Equatable {
    /// The most probable low-level label of `galaxyClass`.
    public var label: String
    /// The high-level class, under the model's vocabulary (`galaxy.classes`): the largest summed
    /// morphology, then its largest summed class.
    public var galaxyClass: String
    /// Label to probability.
    public var probabilities: [String: Float]
    /// The model's labels, in output order.
    public var labels: [String]
    /// Probabilities in `labels` order.
    public var scores: [Float]

    /// - Parameters:
    ///   - labels: the model's labels.
    ///   - classes: the high-level class of each label (`ModelMetadata.classes`); nil takes the
    ///     standard collapse `GalaxyLabels.highLevelClass(of:)`.
    ///   - probabilities: one probability per label, summing to 1.
    public init(labels: [String], classes: [String]? = nil, probabilities: [Float]) {
        precondition(labels.count == probabilities.count && !labels.isEmpty, "Prediction: one probability per label")
        precondition(classes == nil || classes?.count == labels.count, "Prediction: one class per label")
        let labelClasses = classes ?? labels.map(GalaxyLabels.highLevelClass(of:))
        let chosenClass = Self.chosenClass(labelClasses, probabilities)
        var best: Int?
        for i in labels.indices where labelClasses[i] == chosenClass {
            if best == nil || probabilities[i] > probabilities[best!] { best = i }
        }
        self.labels = labels
        self.scores = probabilities
        self.label = labels[best!]
        self.galaxyClass = chosenClass
        var map: [String: Float] = [:]
        for (l, p) in zip(labels, probabilities) { map[l] = p }
        self.probabilities = map
    }

    /// The largest summed morphology, then its largest summed class; ties go to the one met first.
    private static func chosenClass(_ labelClasses: [String], _ probabilities: [Float]) -> String {
        var order: [String] = []
        var sums: [String: Float] = [:]
        for (name, p) in zip(labelClasses, probabilities) {
            if sums[name] == nil { order.append(name) }
            sums[name, default: 0] += p
        }
        var candidates = order
        let morphologies = order.map { GalaxyCore.Morphology(highLevelClass: $0) }
        if morphologies.allSatisfy({ $0 != nil }) {
            var morphologySums: [GalaxyCore.Morphology: Float] = [:]
            for (name, morphology) in zip(order, morphologies) { morphologySums[morphology!, default: 0] += sums[name]! }
            var best = morphologies[0]!
            for morphology in morphologies.dropFirst() where morphologySums[morphology!]! > morphologySums[best]! {
                best = morphology!
            }
            candidates = zip(order, morphologies).filter { $0.1 == best }.map(\.0)
        }
        var chosen = candidates[0]
        for name in candidates.dropFirst() where sums[name]! > sums[chosen]! { chosen = name }
        return chosen
    }

    /// A prediction under a model's vocabulary: `galaxyClass` is the vocabulary's class of the label.
    public init(vocabulary: LabelVocabulary, probabilities: [Float]) {
        self.init(labels: vocabulary.labels, classes: vocabulary.classes, probabilities: probabilities)
    }

    /// Turns a model's output row into probabilities: softmax for logits, unchanged otherwise.
    public static func probabilities(from scores: UnsafeBufferPointer<Float>, output: OutputKind) -> [Float] {
        guard output == .logits else { return Array(scores) }
        let peak = scores.max() ?? 0
        var result = scores.map { Foundation.exp($0 - peak) }
        let sum = result.reduce(0, +)
        for i in result.indices { result[i] /= sum }
        return result
    }
}
