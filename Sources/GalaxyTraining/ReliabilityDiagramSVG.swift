import Foundation

extension SVGCanvas {
    /// Draws a reliability diagram in a `side` x `side` box at (x, y): per confidence bin a bar of
    /// its accuracy with its count above, against the diagonal a calibrated model would follow.
    mutating func reliabilityDiagram(
        _ calibration: Calibration, x: Double, y: Double, side: Double, title: String
    ) {
        let ece = calibration.expectedCalibrationError.map { String(format: "%.4f", $0) } ?? "-"
        text(x: x, y: y - 8, "\(title), ECE \(ece)", size: 13, weight: "bold")
        rect(x: x, y: y, width: side, height: side, fill: "none", stroke: "#999")
        for bin in calibration.bins {
            guard let accuracy = bin.accuracy else { continue }
            let left = x + side * bin.lower
            let width = side * (bin.upper - bin.lower)
            let height = side * accuracy
            rect(
                x: left + 1, y: y + side - height, width: max(width - 2, 1), height: height, fill: "#1f77b4",
                stroke: "#1f77b4")
            text(
                x: left + width / 2, y: y + side - height - 3, String(bin.count), size: 8, anchor: "middle",
                color: "#555")
        }
        polyline([(x, y + side), (x + side, y)], color: "#d62728", dashed: true)
        for tick in stride(from: 0.0, through: 1.0, by: 0.2) {
            text(
                x: x + side * tick, y: y + side + 14, String(format: "%.1f", tick), size: 10, anchor: "middle"
            )
            text(
                x: x - 4, y: y + side * (1 - tick) + 4, String(format: "%.1f", tick), size: 10, anchor: "end")
        }
        text(
            x: x + side / 2, y: y + side + 30,
            "confidence (bars: accuracy per bin, numbers: images; dashed: calibrated)", size: 10,
            anchor: "middle")
    }
}
