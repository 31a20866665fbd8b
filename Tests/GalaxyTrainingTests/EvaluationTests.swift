import Foundation
import GalaxyCore
import Testing

@testable import GalaxyTraining

/// Metrics on small cases computed by hand.
@Suite struct EvaluationTests {
    // Er, Sa, Sb, SBa, A: classes Elliptical, Spiral, Spiral, BarredSpiral, Ambiguous.
    static let vocabulary = try! LabelVocabulary(labels: ["Er", "Sa", "Sb", "SBa", "A"])
    static let probabilities: [[Float]] = [
        [0.7, 0.1, 0.1, 0.05, 0.05],  // Er: right at every level
        [0.1, 0.2, 0.5, 0.1, 0.1],  // Sa predicted Sb: wrong label, right class
        [0.1, 0.3, 0.2, 0.35, 0.05],  // Sa|Sb predicted SBa, but Spiral 0.5 beats BarredSpiral 0.35
        [0.05, 0.05, 0.1, 0.6, 0.2],  // Sb|SBa predicted SBa: inside the set
        [0.4, 0.1, 0.1, 0.1, 0.3],  // A predicted Er: wrong at every level
        [0.2, 0.2, 0.3, 0.1, 0.2],  // votes, top Sa: not counted low-level; Spiral 0.5 is right
    ]
    static let targets: [TrainingTarget] = [
        .label(0), .label(1), .anyOf([1, 2]), .anyOf([2, 3]), .label(4),
        .distribution([0.1, 0.6, 0.2, 0.1, 0]),
    ]
    static let evaluation = Evaluation(vocabulary: vocabulary, probabilities: probabilities, targets: targets)

    static func close(_ a: Double?, _ b: Double, _ tolerance: Double = 1e-6) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= tolerance
    }

    @Test func lowLevelCountsLabelsAndSetsOnly() throws {
        let low = Self.evaluation.lowLevel
        #expect(Self.evaluation.imageCount == 6)
        #expect(Self.evaluation.lowLevelExcluded == 1)
        #expect(low.count == 5)
        #expect(low.correct == 2)
        #expect(low.accuracy == 0.4)
        #expect(low.matrix.rows == ["Er", "Sa", "Sb", "SBa", "A", "Sa|Sb", "Sb|SBa"])
        #expect(low.matrix.counts[5] == [0, 0, 0, 1, 0])
        #expect(low.matrix.counts[6] == [0, 0, 0, 1, 0])
        #expect(low.matrix.errorRate(5) == 1)
        #expect(low.matrix.errorRate(6) == 0)

        let byName = Dictionary(uniqueKeysWithValues: low.classes.map { ($0.name, $0) })
        let er = try #require(byName["Er"])
        #expect(
            er.precision == 0.5 && er.recall == 1 && Self.close(er.f1, 2.0 / 3) && er.support == 1
                && er.predicted == 2)
        let sa = try #require(byName["Sa"])
        #expect(sa.precision == nil && sa.recall == 0 && sa.f1 == 0 && sa.support == 1)
        // Sb is predicted once (for an Sa) and is nobody's exact target: no recall, no F1.
        let sb = try #require(byName["Sb"])
        #expect(sb.precision == 0 && sb.recall == nil && sb.f1 == nil && sb.support == 0 && sb.predicted == 1)
        // SBa: right for the Sb|SBa image, wrong for the Sa|Sb one.
        let sba = try #require(byName["SBa"])
        #expect(sba.precision == 0.5 && sba.recall == nil && sba.predicted == 2)
        #expect(Self.close(low.macroF1, (2.0 / 3 + 0 + 0) / 3))
    }

    @Test func highLevelSumsProbabilitiesPerClass() throws {
        let high = Self.evaluation.highLevel
        #expect(high.groups == ["Ambiguous", "Elliptical", "Spiral", "BarredSpiral"])
        #expect(high.count == 6)
        #expect(high.correct == 5)
        #expect(
            high.matrix.rows == ["Ambiguous", "Elliptical", "Spiral", "BarredSpiral", "Spiral|BarredSpiral"])
        #expect(
            high.matrix.counts == [[0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 3, 0], [0, 0, 0, 0], [0, 0, 0, 1]])
        // BarredSpiral: an empty class that is still predicted (correctly, for the set).
        let barred = high.classes[3]
        #expect(
            barred.support == 0 && barred.predicted == 1 && barred.precision == 1 && barred.recall == nil
                && barred.f1 == nil)
        #expect(high.classes[2].precision == 1 && high.classes[2].recall == 1 && high.classes[2].f1 == 1)
        #expect(Self.close(high.macroF1, (0 + 2.0 / 3 + 1) / 3))
        // Confidences 0.7 and 0.7 (right), 0.6 (right), 0.5 and 0.5 (right), 0.4 (wrong):
        // (2·0.3 + 0.4 + 2·0.5 + 0.4) / 6.
        #expect(Self.close(high.calibration.expectedCalibrationError, 2.4 / 6, 1e-6))
        #expect(high.calibration.bins.count == 15)
        #expect(high.calibration.bins[10].count == 2 && high.calibration.bins[6].correct == 0)
    }

    @Test func morphologyCollapsesDisksAndIsSkippedForOtherTaxonomies() throws {
        let morphology = try #require(Self.evaluation.morphology)
        #expect(morphology.groups == ["Elliptical", "disk", "Ambiguous"])
        #expect(morphology.correct == 5 && morphology.count == 6)
        #expect(morphology.matrix.rows == morphology.groups)
        #expect(morphology.matrix.counts[1] == [0, 4, 0])

        let gz1 = try LabelVocabulary(
            labels: ["elliptical", "spiral", "merger"], classes: ["Elliptical", "Spiral", "merger"])
        let other = Evaluation(vocabulary: gz1, probabilities: [[0.5, 0.3, 0.2]], targets: [.label(0)])
        #expect(other.morphology == nil)
        #expect(other.levels.map(\.level) == [.low, .high])
        #expect(other.highLevel.groups == ["Elliptical", "Spiral", "merger"])
    }

    @Test func logLossIsTheTargetsNegativeLogLikelihood() {
        let q: [Double] = [0.1, 0.6, 0.2, 0.1, 0]
        let p: [Double] = [0.2, 0.2, 0.3, 0.1, 0.2]
        let soft = -zip(q, p).reduce(0.0) { $0 + ($1.0 == 0 ? 0 : $1.0 * log($1.1)) }
        let expected = (-log(0.7) - log(0.2) - log(0.5) - log(0.7) - log(0.3) + soft) / 6
        #expect(Self.close(Self.evaluation.logLoss, expected, 1e-5))
        // A confident mistake costs a lot, but not infinity.
        let zero = Evaluation.negativeLogLikelihood(probabilities: [1, 0], target: .label(1))
        #expect(zero.isFinite && zero > 27)
    }

    @Test func perfectlyCalibratedToyHasZeroECE() {
        let vocabulary = try! LabelVocabulary(labels: ["Er", "Sa"])
        let probabilities = [[Float]](repeating: [0.75, 0.25], count: 4)
        let evaluation = Evaluation(
            vocabulary: vocabulary, probabilities: probabilities,
            targets: [.label(0), .label(0), .label(0), .label(1)])
        for level in evaluation.levels {
            #expect(level.accuracy == 0.75)
            #expect(Self.close(level.calibration.expectedCalibrationError, 0, 1e-9), "\(level.level)")
        }
    }

    @Test func textSVGAndJSONCarryTheFigures() throws {
        let evaluation = Self.evaluation
        let text = evaluation.text
        for part in [
            "Sa|Sb", "Spiral|BarredSpiral", "macro-F1", "ECE", "precision", "log-loss", "morphology",
            "40.00%",
        ] {
            #expect(text.contains(part), "text lacks \(part)\n\(text)")
        }
        let svg = evaluation.svg(title: "test")
        #expect(svg.hasPrefix("<svg") && svg.contains("reliability") && svg.contains("Spiral|BarredSpiral"))
        let json = try JSONEncoder().encode(evaluation)
        #expect(try JSONDecoder().decode(Evaluation.self, from: json) == evaluation)
    }
}
