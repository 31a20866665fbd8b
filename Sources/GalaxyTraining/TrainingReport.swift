import Foundation
import GalaxyCore

/// One epoch's figures, for the curves and the checkpoint.
public struct EpochRecord: Sendable, Codable, Hashable {
    public var epoch: Int
    public var train: PassMetrics
    public var test: PassMetrics
    public var seconds: Double
    public var imagesPerSecond: Double
}

/// The end-of-training report: confusion matrices on the test set (low- and high-level), per-class
/// error rates and the training curves, as text and as an SVG image.
public struct TrainingReport: Sendable {
    public var history: [EpochRecord]
    public var lowLevel: ConfusionMatrix
    public var highLevel: ConfusionMatrix
    /// The epoch whose weights were exported (the best held-out loss).
    public var bestEpoch: Int
    /// The test set's full evaluation (set and class targets counted where the prediction falls
    /// inside them, morphology, precision/recall/F1, calibration), when probabilities are known.
    public var evaluation: Evaluation?

    /// - Parameters:
    ///   - targets: the test set's targets; the low-level matrix counts those that are one label,
    ///     the high-level one those whose labels all share one class.
    ///   - probabilities: the model's test-set probabilities, `[count, labels]`.
    public init(history: [EpochRecord], vocabulary: LabelVocabulary, targets: [TrainingTarget], probabilities: [Float], bestEpoch: Int) {
        self.history = history
        self.bestEpoch = bestEpoch
        let k = vocabulary.count
        let classes = vocabulary.highLevelClasses
        var low = ConfusionMatrix(classes: vocabulary.labels)
        var high = ConfusionMatrix(classes: classes)
        for (n, target) in targets.enumerated() {
            let row = probabilities[(n * k)..<((n + 1) * k)]
            let predicted = row.indices.max { row[$0] < row[$1] }! - n * k
            let predictedClass = classes.firstIndex(of: vocabulary.classes[predicted])!
            let allowed = target.allowedLabels
            if allowed.count == 1 { low.add(truth: allowed[0], predicted: predicted) }
            let allowedClasses = Set(allowed.map { vocabulary.classes[$0] })
            if allowedClasses.count == 1, let truth = classes.firstIndex(of: allowedClasses.first!) {
                high.add(truth: truth, predicted: predictedClass)
            }
        }
        lowLevel = low
        highLevel = high
        evaluation = targets.isEmpty
            ? nil
            : Evaluation(
                vocabulary: vocabulary, probabilities: (0..<targets.count).map { Array(probabilities[($0 * k)..<(($0 + 1) * k)]) },
                targets: targets)
    }

    /// The classic form: one label per test image and the predicted label.
    public init(history: [EpochRecord], labels: [String], truths: [Int], predictions: [Int], bestEpoch: Int) {
        let vocabulary = (try? LabelVocabulary(labels: labels)) ?? .standard
        var probabilities = [Float](repeating: 0, count: predictions.count * labels.count)
        for (n, p) in predictions.enumerated() { probabilities[n * labels.count + p] = 1 }
        self.init(
            history: history, vocabulary: vocabulary, targets: truths.map { .label($0) }, probabilities: probabilities, bestEpoch: bestEpoch)
    }

    /// The printed report.
    public var text: String {
        if let evaluation {
            return "Test set, epoch \(bestEpoch):\n" + evaluation.text
        }
        return [
            lowLevel.table(title: "Low-level confusion matrix (\(lowLevel.classes.count) classes, test set, epoch \(bestEpoch))"),
            "",
            highLevel.table(title: "High-level confusion matrix (\(highLevel.classes.count) classes)"),
        ].joined(separator: "\n")
    }

    /// Training curves (loss and accuracy per epoch) and both confusion matrices as one SVG.
    public var svg: String {
        var out = SVGCanvas(width: 1200, height: 900)
        out.text(x: 20, y: 30, "galaxy train: loss and accuracy per epoch; test-set confusion matrices (epoch \(bestEpoch))", size: 16, weight: "bold")
        drawCurves(&out, x: 60, y: 60, width: 480, height: 280)
        out.confusionMatrix(lowLevel, x: 640, y: 70, cell: 38, title: "low-level (rows: true, columns: predicted)")
        out.confusionMatrix(highLevel, x: 120, y: 450, cell: 70, title: "high-level")
        return out.finish()
    }

    private func drawCurves(_ out: inout SVGCanvas, x: Double, y: Double, width: Double, height: Double) {
        guard !history.isEmpty else { return }
        let maxLoss = max(history.map { max($0.train.loss, $0.test.loss) }.max() ?? 1, 1e-6)
        let epochs = Double(max(history.count - 1, 1))
        func px(_ i: Int) -> Double { x + width * Double(i) / epochs }
        func line(_ values: [Double], scale: Double, color: String, dashed: Bool) {
            let points = values.enumerated().map { (i, v) in (px(i), y + height - height * v / scale) }
            out.polyline(points, color: color, dashed: dashed)
        }
        out.rect(x: x, y: y, width: width, height: height, fill: "none", stroke: "#999")
        line(history.map(\.train.loss), scale: maxLoss, color: "#d62728", dashed: false)
        line(history.map(\.test.loss), scale: maxLoss, color: "#d62728", dashed: true)
        line(history.map(\.train.accuracy), scale: 1, color: "#1f77b4", dashed: false)
        line(history.map(\.test.accuracy), scale: 1, color: "#1f77b4", dashed: true)
        out.text(x: x, y: y + height + 20, "epoch 1 … \(history.count); red: loss (0 … \(String(format: "%.2f", maxLoss))), blue: accuracy (0 … 1); solid: train, dashed: test", size: 12)
        if let last = history.last {
            out.text(x: x, y: y + height + 40, String(format: "last epoch: train loss %.3f acc %.1f%%, test loss %.3f acc %.1f%%, %.0f images/s", last.train.loss, last.train.accuracy * 100, last.test.loss, last.test.accuracy * 100, last.imagesPerSecond), size: 12)
        }
    }
}
