/// Box (area-averaging) weights from `inputLength` pixels to `outputLength` pixels, defined as
/// Pillow's `Image.BOX` filter defines them: output pixel `o` covers the input interval
/// `[o * n / m, (o + 1) * n / m)` and averages, with equal weights, the input pixels whose centres
/// fall inside it (so 204 -> 50 averages runs of 4 or 5 pixels). Matching Pillow exactly means a
/// model trained elsewhere on Pillow-preprocessed images sees the same inputs here.
/// Every output uses `taps` consecutive inputs from `starts[o]` (unused taps weigh 0), so the
/// loops have a fixed trip count.
struct AreaWeights {
    let inputLength: Int
    let outputLength: Int
    let taps: Int
    let starts: [Int]
    let weights: [Float]

    init(input n: Int, output m: Int) {
        precondition(n > 0 && m > 0, "AreaWeights needs positive lengths, got \(n) -> \(m)")
        let scale = Double(n) / Double(m)
        // As Pillow's precompute_coeffs with the box filter: support 0.5 * scale when shrinking.
        let filterScale = max(scale, 1)
        let support = 0.5 * filterScale
        var spans: [(first: Int, weights: [Double])] = []
        for o in 0..<m {
            let center = (Double(o) + 0.5) * scale
            let first = max(0, Int(center - support + 0.5))
            let end = min(n, Int(center + support + 0.5))
            var ws: [Double] = []
            for i in first..<max(end, first + 1) {
                let x = (Double(i) - center + 0.5) / filterScale
                ws.append(x > -0.5 && x <= 0.5 ? 1 : 0)
            }
            let total = ws.reduce(0, +)
            spans.append((first, total > 0 ? ws.map { $0 / total } : ws))
        }
        let taps = spans.map(\.weights.count).max() ?? 1
        var starts: [Int] = []
        var weights = [Float](repeating: 0, count: m * taps)
        for (o, span) in spans.enumerated() {
            let start = max(0, min(span.first, n - taps))
            starts.append(start)
            for (k, w) in span.weights.enumerated() {
                weights[o * taps + (span.first - start) + k] = Float(w)
            }
        }
        inputLength = n
        outputLength = m
        self.taps = taps
        self.starts = starts
        self.weights = weights
    }
}
