import Foundation

/// A minimal SVG writer.
struct SVGCanvas {
    private var body: [String] = []
    let width: Double
    let height: Double

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String) {
        body.append(String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" ", x, y, width, height) + "fill=\"\(fill)\" stroke=\"\(stroke)\"/>")
    }

    mutating func polyline(_ points: [(Double, Double)], color: String, dashed: Bool) {
        let p = points.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
        body.append("<polyline points=\"\(p)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dashed ? " stroke-dasharray=\"6,4\"" : "")/>")
    }

    mutating func text(x: Double, y: Double, _ s: String, size: Double, weight: String = "normal", anchor: String = "start", color: String = "#000") {
        let escaped = s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        body.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\" ", x, y, size) + "font-weight=\"\(weight)\" text-anchor=\"\(anchor)\" fill=\"\(color)\">" + escaped + "</text>")
    }

    func finish() -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
            + body.joined(separator: "\n") + "\n</svg>\n"
    }
}
