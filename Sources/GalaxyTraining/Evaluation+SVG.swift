import Foundation

extension Evaluation {
    /// The confusion matrix of every level (left) beside its reliability diagram (right), as one SVG.
    /// - Parameter title: the first line, for example the model and data evaluated.
    public func svg(title: String) -> String {
        let diagramSide = 300.0
        let longestRow = levels.flatMap(\.matrix.rows).map(\.count).max() ?? 4
        let left = 30 + Double(longestRow) * 6.5
        let cells = levels.map { $0.groups.count <= 4 ? 60.0 : 34.0 }
        let matrixWidth = zip(levels, cells).map { Double($0.groups.count) * $1 + 70 }.max() ?? 300
        // Each level's band is as tall as its matrix or its diagram, whichever is taller.
        let bands = zip(levels, cells).map { max(Double($0.matrix.rows.count) * $1 + 60, diagramSide + 70) }
        let top = 90.0
        var out = SVGCanvas(
            width: left + matrixWidth + 80 + diagramSide + 30, height: top + bands.reduce(0, +) + 20)
        out.text(x: 20, y: 30, title, size: 16, weight: "bold")
        let summary = levels.map { "\($0.level.rawValue) \(Self.percent($0.accuracy)) (n=\($0.count))" }
            .joined(separator: ", ")
        out.text(
            x: 20, y: 52, "\(imageCount) images; accuracy \(summary); log-loss \(Self.fixed(logLoss))",
            size: 12)
        var y = top
        for (i, level) in levels.enumerated() {
            out.confusionMatrix(
                level.matrix, x: left, y: y, cell: cells[i],
                title: "\(level.level.rawValue) (rows: target, columns: predicted)")
            out.reliabilityDiagram(
                level.calibration, x: left + matrixWidth + 80, y: y, side: diagramSide,
                title: "\(level.level.rawValue) reliability")
            y += bands[i]
        }
        return out.finish()
    }
}
