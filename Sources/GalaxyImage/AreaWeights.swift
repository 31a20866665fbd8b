/// Area-averaging weights from `inputLength` pixels to `outputLength` pixels: output pixel `o`
/// averages the input interval `[o * n / m, (o + 1) * n / m)`, partly covered pixels weighted by
/// their covered fraction. Every output uses `taps` consecutive inputs from `starts[o]`
/// (unused taps weigh 0), so the loops have a fixed trip count.
struct AreaWeights {
    let inputLength: Int
    let outputLength: Int
    let taps: Int
    let starts: [Int]
    let weights: [Float]

    init(input n: Int, output m: Int) {
        precondition(n > 0 && m > 0, "AreaWeights needs positive lengths, got \(n) -> \(m)")
        let scale = Double(n) / Double(m)
        var spans: [(first: Int, weights: [Double])] = []
        for o in 0..<m {
            let lo = Double(o) * scale
            let hi = Double(o + 1) * scale
            let first = min(n - 1, Int(lo.rounded(.down)))
            let last = max(first, min(n - 1, Int(hi.rounded(.up)) - 1))
            var ws: [Double] = []
            for i in first...last {
                ws.append(max(0, min(hi, Double(i + 1)) - max(lo, Double(i))))
            }
            let total = ws.reduce(0, +)
            spans.append((first, ws.map { $0 / total }))
        }
        let taps = spans.map(\.weights.count).max() ?? 1
        var starts: [Int] = []
        var weights = [Float](repeating: 0, count: m * taps)
        for (o, span) in spans.enumerated() {
            let start = min(span.first, n - taps)
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
