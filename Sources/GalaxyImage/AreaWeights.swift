/// Box (area-averaging) ranges from `inputLength` pixels to `outputLength` pixels, defined as
/// Pillow's `Image.BOX` filter defines them: output pixel `o` covers the input interval
/// `(o * n / m, (o + 1) * n / m]` and averages, with equal weights, the `counts[o]` input pixels
/// from `starts[o]` whose centres fall inside it (204 -> 50 averages runs of 4 or 5 pixels;
/// enlarging takes the nearest pixel). Matching Pillow means a model trained elsewhere on
/// Pillow-preprocessed images sees the same inputs here. Equal weights let the resize sum
/// integers exactly and divide once.
struct AreaWeights {
    let inputLength: Int
    let outputLength: Int
    let starts: [Int]
    let counts: [Int]
    /// 1 / counts[o].
    let reciprocals: [Float]

    init(input n: Int, output m: Int) {
        precondition(n > 0 && m > 0, "AreaWeights needs positive lengths, got \(n) -> \(m)")
        let scale = Double(n) / Double(m)
        // As Pillow's precompute_coeffs with the box filter: support 0.5 * scale when shrinking,
        // and pixel i counts when (i + 0.5 - center) / filterScale lies in (-0.5, 0.5].
        let filterScale = max(scale, 1)
        let support = 0.5 * filterScale
        var starts: [Int] = []
        var counts: [Int] = []
        for o in 0..<m {
            let center = (Double(o) + 0.5) * scale
            let lower = max(0, Int(center - support + 0.5))
            let upper = min(n, Int(center + support + 0.5))
            let members = (lower..<max(lower, upper)).filter { i in
                let x = (Double(i) - center + 0.5) / filterScale
                return x > -0.5 && x <= 0.5
            }
            // Never empty for these lengths; the nearest pixel guards rounding at the edges.
            starts.append(members.first ?? min(n - 1, Int(center)))
            counts.append(max(1, members.count))
        }
        inputLength = n
        outputLength = m
        self.starts = starts
        self.counts = counts
        reciprocals = counts.map { 1 / Float($0) }
    }
}
