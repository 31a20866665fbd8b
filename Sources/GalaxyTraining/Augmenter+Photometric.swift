import Foundation

/// The steps of `Augmenter.render` on the resized tensor, in the [0,1] domain.
extension Augmenter {
    /// Kernel half-width for `sigma`: 3 sigma, at least 1, at most the image side.
    static func blurRadius(sigma: Double, size: Int) -> Int {
        min(max(1, Int((3 * sigma).rounded(.up))), max(1, size - 1))
    }

    /// Separable Gaussian blur of each plane, edges replicated.
    func blur(_ output: UnsafeMutablePointer<Float>, sigma: Double) {
        let size = options.size
        let radius = min(Self.blurRadius(sigma: sigma, size: size), kernelCapacity - 1)
        var total: Float = 0
        for t in 0...radius {
            let weight = Float(exp(-Double(t * t) / (2 * sigma * sigma)))
            kernel[t] = weight
            total += t == 0 ? weight : 2 * weight
        }
        for t in 0...radius { kernel[t] /= total }
        let last = size - 1
        for c in 0..<3 {
            let image = output + c * size * size
            // Rows into the scratch plane, then columns back.
            for y in 0..<size {
                let row = image + y * size, target = plane + y * size
                for x in 0..<size {
                    var sum = kernel[0] * row[x]
                    for t in 1...radius {
                        sum += kernel[t] * (row[max(x - t, 0)] + row[min(x + t, last)])
                    }
                    target[x] = sum
                }
            }
            for y in 0..<size {
                for x in 0..<size {
                    var sum = kernel[0] * plane[y * size + x]
                    for t in 1...radius {
                        sum += kernel[t] * (plane[max(y - t, 0) * size + x] + plane[min(y + t, last) * size + x])
                    }
                    image[y * size + x] = sum
                }
            }
        }
    }

    /// Multiplies each plane by brightness times its colour gain.
    func applyGains(_ output: UnsafeMutablePointer<Float>, _ draw: AugmentationDraw) {
        let count = options.size * options.size
        for c in 0..<3 {
            let gain = Float(draw.brightness * draw.colour[c])
            guard gain != 1 else { continue }
            let image = output + c * count
            for i in 0..<count { image[i] *= gain }
        }
    }

    /// Adds independent Gaussian noise of `sigma` to every value, from the sample's noise stream:
    /// five 12-bit indices per 64-bit draw into `GaussianTable` (Box-Muller, a logarithm and two
    /// sines per pair, measured 115 us per sample; the table 15 us).
    func addNoise(_ output: UnsafeMutablePointer<Float>, sigma: Float, seed: UInt64) {
        var random = SeededGenerator(seed: seed).derived(Self.noiseStream)
        let count = options.floatCount
        GaussianTable.values.withUnsafeBufferPointer { table in
            var i = 0
            while i < count {
                var bits = random.next()
                for _ in 0..<min(5, count - i) {
                    output[i] += sigma * table[Int(bits & 0xFFF)]
                    bits >>= 12
                    i += 1
                }
            }
        }
    }
}

/// 4096 equally likely standard normal values: the quantiles at (k + 1/2) / 4096, rescaled to
/// unit variance. Uniform indices into it give Gaussian noise truncated at 3.5 sigma, which no
/// network can tell from the real thing at 8-bit image levels.
enum GaussianTable {
    static let values: [Float] = {
        let n = 4096
        let quantiles = (0..<n).map { inverseNormal((Double($0) + 0.5) / Double(n)) }
        let std = (quantiles.map { $0 * $0 }.reduce(0, +) / Double(n)).squareRoot()
        return quantiles.map { Float($0 / std) }
    }()

    /// Acklam's rational approximation of the standard normal quantile (relative error 1e-9).
    static func inverseNormal(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        func tail(_ q: Double) -> Double {
            (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p < 0.02425 { return tail((-2 * log(p)).squareRoot()) }
        if p > 1 - 0.02425 { return -tail((-2 * log(1 - p)).squareRoot()) }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
