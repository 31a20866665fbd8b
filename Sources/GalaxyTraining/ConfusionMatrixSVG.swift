import Foundation

extension SVGCanvas {
    /// Draws a confusion matrix with its top-left cell at (x, y): rows are the truth (set rows
    /// included), columns the prediction, cells shaded by their share of the row, and each row's
    /// error rate on the right.
    mutating func confusionMatrix(_ m: ConfusionMatrix, x: Double, y: Double, cell: Double, title: String) {
        text(
            x: x, y: y - 8, title + String(format: ", accuracy %.1f%%", m.accuracy * 100), size: 13,
            weight: "bold")
        for (j, name) in m.classes.enumerated() {
            text(
                x: x + cell * (Double(j) + 0.5), y: y + cell * Double(m.rows.count) + 14, name, size: 11,
                anchor: "middle")
        }
        for (i, name) in m.rows.enumerated() {
            text(x: x - 6, y: y + cell * (Double(i) + 0.6), name, size: 11, anchor: "end")
            let support = max(m.support(i), 1)
            for j in m.classes.indices {
                let share = Double(m.counts[i][j]) / Double(support)
                let shade = Int(255 - 200 * share)
                rect(
                    x: x + cell * Double(j), y: y + cell * Double(i), width: cell, height: cell,
                    fill: String(format: "rgb(%d,%d,255)", shade, shade), stroke: "#fff")
                if m.counts[i][j] > 0 {
                    text(
                        x: x + cell * (Double(j) + 0.5), y: y + cell * (Double(i) + 0.6),
                        String(m.counts[i][j]),
                        size: 10, anchor: "middle", color: share > 0.5 ? "#fff" : "#000")
                }
            }
            if let rate = m.errorRate(i) {
                text(
                    x: x + cell * Double(m.classes.count) + 6, y: y + cell * (Double(i) + 0.6),
                    String(format: "%.0f%% err", rate * 100), size: 10)
            }
        }
    }
}
