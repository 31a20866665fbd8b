import Foundation
import GalaxyCore

/// How well a model's probabilities match the targets of labelled images, at three levels:
/// low-level (the vocabulary's labels), high-level (their classes, probabilities summed per class)
/// and morphology (Elliptical / disk / Ambiguous, summed again; absent when the vocabulary has
/// classes outside the standard four).
///
/// At every level the prediction is the most probable group and counts as correct when it is
/// inside the target: a label's group, any group of a set's members (`Sa|Sb`, `Spiral`), or any
/// group of a distribution's top labels. The low level counts only images whose target is a label
/// or a set: vote fractions say nothing about one right label, and enter only the log-loss there.
///
/// Pure: it needs only probabilities and targets, so the trainer evaluates its held-out set with
/// it exactly as `galaxy evaluate` does.
public struct Evaluation: Sendable, Codable, Hashable {
    public var vocabulary: LabelVocabulary
    /// Images evaluated.
    public var imageCount: Int
    /// Images with a distribution target, left out of the low level's counts (not its log-loss).
    public var lowLevelExcluded: Int
    /// Low-level, high-level and (when defined) morphology, in that order.
    public var levels: [LevelEvaluation]
    /// Mean negative log-likelihood of the targets under the low-level probabilities: −log of the
    /// allowed labels' summed probability, or the soft cross-entropy for a distribution; nil
    /// without images.
    public var logLoss: Double?

    /// Probabilities below this count as it in the log-loss, so one confident mistake is large
    /// but finite.
    public static let probabilityFloor = 1e-12

    /// - Parameters:
    ///   - vocabulary: the model's labels and their classes.
    ///   - probabilities: per image, one probability per label (summing to 1).
    ///   - targets: per image, its target under `vocabulary`.
    public init(
        vocabulary: LabelVocabulary, probabilities: [[Float]], targets: [TrainingTarget],
        binCount: Int = Calibration.standardBinCount
    ) {
        precondition(probabilities.count == targets.count, "Evaluation: one target per image")
        precondition(
            probabilities.allSatisfy { $0.count == vocabulary.count }, "Evaluation: one probability per label"
        )
        self.vocabulary = vocabulary
        imageCount = targets.count
        levels = EvaluationLevel.allCases.compactMap { level in
            guard let grouping = LevelGrouping(level, vocabulary: vocabulary) else { return nil }
            let allowed: [[Int]?] = targets.map { target in
                if level == .low, case .distribution = target { return nil }
                return target.allowedLabels
            }
            return LevelEvaluation(
                grouping: grouping, probabilities: probabilities, allowedLabels: allowed, binCount: binCount)
        }
        lowLevelExcluded =
            targets.filter { if case .distribution = $0 { return true } else { return false } }.count
        let losses = zip(probabilities, targets).map {
            Self.negativeLogLikelihood(probabilities: $0, target: $1)
        }
        logLoss = losses.isEmpty ? nil : losses.reduce(0, +) / Double(losses.count)
    }

    /// The level's figures; nil for the morphology of a vocabulary outside the standard classes.
    public func level(_ level: EvaluationLevel) -> LevelEvaluation? { levels.first { $0.level == level } }

    public var lowLevel: LevelEvaluation { level(.low)! }
    public var highLevel: LevelEvaluation { level(.high)! }
    public var morphology: LevelEvaluation? { level(.morphology) }

    /// One image's negative log-likelihood of its target.
    public static func negativeLogLikelihood(probabilities p: [Float], target: TrainingTarget) -> Double {
        switch target {
        case .label, .anyOf:
            let mass = target.allowedLabels.reduce(0.0) { $0 + Double(p[$1]) }
            return -Foundation.log(max(mass, probabilityFloor))
        case .distribution(let q):
            return zip(q, p).reduce(0.0) { sum, pair in
                pair.0 == 0
                    ? sum : sum - Double(pair.0) * Foundation.log(max(Double(pair.1), probabilityFloor))
            }
        }
    }
}
