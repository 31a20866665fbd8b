import Foundation
import GalaxyCore

/// One image's classification: the most probable label, its high-level class, and every
/// label's probability.
public struct Prediction: Sendable, Codable, Equatable {
    /// The most probable low-level label.
    public var label: String
    /// The high-level class of `label` under the model's vocabulary (`galaxy.classes`).
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
        var best = 0
        for i in 1..<probabilities.count where probabilities[i] > probabilities[best] { best = i }
        self.labels = labels
        self.scores = probabilities
        self.label = labels[best]
        self.galaxyClass = classes?[best] ?? GalaxyLabels.highLevelClass(of: labels[best])
        var map: [String: Float] = [:]
        for (l, p) in zip(labels, probabilities) { map[l] = p }
        self.probabilities = map
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
