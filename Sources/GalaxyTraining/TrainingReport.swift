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

    public init(history: [EpochRecord], labels: [String], truths: [Int], predictions: [Int], bestEpoch: Int) {
        self.history = history
        self.bestEpoch = bestEpoch
        var low = ConfusionMatrix(classes: labels)
        for (t, p) in zip(truths, predictions) { low.add(truth: t, predicted: p) }
        lowLevel = low
        let highClasses = GalaxyLabels.highLevelClasses.filter { c in labels.contains { GalaxyLabels.highLevelClass(of: $0) == c } }
        let extra = labels.map(GalaxyLabels.highLevelClass(of:)).filter { !highClasses.contains($0) }
        var seen = Set<String>()
        let allHigh = highClasses + extra.filter { seen.insert($0).inserted }
        highLevel = low.collapsed(into: allHigh, classOf: GalaxyLabels.highLevelClass(of:))
    }

    /// The printed report.
    public var text: String {
        [
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
