import GalaxyImage

/// Sky noise and the display stretch that turns linear flux into the 8-bit colours of the
/// Galaxy Zoo cutouts (an asinh stretch in the manner of Lupton et al. 2004, which keeps colours
/// of bright cores while showing faint outskirts).
struct Exposure {
    /// Per-channel Gaussian sky noise (linear flux units).
    var noise: SIMD4<Float>
    /// Per-channel sky level left after background subtraction (may be slightly negative).
    var skyLevel: SIMD4<Float>
    /// asinh softening: larger shows more faint light.
    var softening: Float
    /// Overall scale applied before the stretch.
    var gain: Float
    /// Size of a survey pixel in this frame's pixels (>= 1): the noise is drawn per survey pixel
    /// and interpolated, so blown-up small galaxies show coarse grain as in the real cutouts.
    var grain: Float
    /// Seed of the noise field.
    var noiseSeed: UInt64

    /// Adds noise, stretches and quantises `canvas` into an RGB image.
    func develop(_ canvas: FloatCanvas) -> RGBImage {
        let width = canvas.width
        let height = canvas.height
        let noiseField = NoiseField(width: width, height: height, grain: grain, seed: noiseSeed)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let stretchTable = StretchTable(softening: softening)
        // Interpolating coarse noise lowers its variance; scale it back to the requested sigma.
        let sigma = noise * noiseField.varianceCompensation
        canvas.red.withUnsafeBufferPointer { r in
            canvas.green.withUnsafeBufferPointer { g in
                canvas.blue.withUnsafeBufferPointer { b in
                    pixels.withUnsafeMutableBufferPointer { out in
                        var rowNoise = [SIMD4<Float>](repeating: .zero, count: width)
                        for y in 0..<height {
                            noiseField.row(y, into: &rowNoise)
                            rowNoise.withUnsafeBufferPointer { n in
                                let row = y &* width
                                for x in 0..<width {
                                    let i = row &+ x
                                    var c = SIMD4<Float>(r[i], g[i], b[i], 0)
                                    c += skyLevel + sigma * n[x]
                                    c *= gain
                                    let intensity = (c.x + c.y + c.z) * (1.0 / 3.0)
                                    let o = i &* 3
                                    if intensity <= 0 {
                                        out[o] = 0
                                        out[o &+ 1] = 0
                                        out[o &+ 2] = 0
                                        continue
                                    }
                                    let stretch = stretchTable.factor(intensity)
                                    c = c * stretch
                                    c = c.replacing(with: 0, where: c .< 0)
                                    // Saturated cores clip towards white, as in the survey's composites.
                                    c = c.replacing(with: 1, where: c .> 1)
                                    // In [0.5, 255.5] here, so truncation rounds and cannot overflow.
                                    let q = SIMD4<Int32>(c * 255 + 0.5, rounding: .towardZero)
                                    out[o] = UInt8(truncatingIfNeeded: q.x)
                                    out[o &+ 1] = UInt8(truncatingIfNeeded: q.y)
                                    out[o &+ 2] = UInt8(truncatingIfNeeded: q.z)
                                }
                            }
                        }
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}

/// `asinh(q I) / (asinh(q) I)`, the factor that maps linear intensity `I` to display intensity,
/// tabulated over `sqrt(I)` (smooth there) and computed exactly above the table's end.
struct StretchTable {
    private static let entries = 1024
    private static let maxRoot: Float = 2
    private let values: [Float]
    private let softening: Float
    private let inverseAsinhQ: Float

    init(softening q: Float) {
        softening = q
        inverseAsinhQ = 1 / _asinhf(q)
        var v = [Float](repeating: 0, count: Self.entries + 2)
        for i in 0..<v.count {
            let u = Float(i) * Self.maxRoot / Float(Self.entries)
            let intensity = u * u
            v[i] = i == 0 ? q * inverseAsinhQ : _asinhf(q * intensity) * inverseAsinhQ / intensity
        }
        values = v
    }

    @inline(__always)
    func factor(_ intensity: Float) -> Float {
        let f = intensity.squareRoot() * (Float(Self.entries) / Self.maxRoot)
        if f >= Float(Self.entries) {
            return _asinhf(softening * intensity) * inverseAsinhQ / intensity
        }
        let i = Int(f)
        let t = f - Float(i)
        return values.withUnsafeBufferPointer { v in v[i] + (v[i &+ 1] - v[i]) * t }
    }
}

/// Standard-normal noise on a grid of survey pixels, bilinearly interpolated to frame pixels.
struct NoiseField {
    private let gridWidth: Int
    private let grain: Float
    private let values: [SIMD4<Float>]
    private let column: [Int32]
    private let columnWeight: [Float]
    /// 1 / (standard deviation of interpolated unit noise), averaged over the cell.
    let varianceCompensation: Float

    init(width: Int, height: Int, grain: Float, seed: UInt64) {
        self.grain = grain
        gridWidth = Int((Float(width) / grain).rounded(.up)) + 2
        let gridHeight = Int((Float(height) / grain).rounded(.up)) + 2
        let table = GaussianTable.values
        var state = seed | 1
        var v = [SIMD4<Float>](repeating: .zero, count: gridWidth * gridHeight)
        table.withUnsafeBufferPointer { t in
            for i in 0..<v.count {
                // xorshift64*: 64 random bits give three 16-bit table indices.
                state ^= state >> 12
                state ^= state << 25
                state ^= state >> 27
                let bits = state &* 0x2545_F491_4F6C_DD1D
                v[i] = SIMD4<Float>(
                    t[Int(truncatingIfNeeded: bits & 0xFFFF)],
                    t[Int(truncatingIfNeeded: (bits >> 16) & 0xFFFF)],
                    t[Int(truncatingIfNeeded: (bits >> 32) & 0xFFFF)], 0)
            }
        }
        values = v
        var c = [Int32](repeating: 0, count: width)
        var w = [Float](repeating: 0, count: width)
        for x in 0..<width {
            let f = max(0, (Float(x) + 0.5) / grain - 0.5)
            let i = Int(f)
            c[x] = Int32(i)
            w[x] = f - Float(i)
        }
        column = c
        columnWeight = w
        // Variance of a bilinear mix of independent unit values, averaged over one cell:
        // (mean over t of (1-t)^2 + t^2)^2 = (2/3)^2 when grain is large; exactly 1 when grain is 1.
        let perAxis: Float = grain <= 1 ? 1 : 1 - (1 / 3) * min(1, (grain - 1))
        varianceCompensation = 1 / perAxis
    }

    /// The noise of frame row `y`.
    func row(_ y: Int, into out: inout [SIMD4<Float>]) {
        let fy = max(0, (Float(y) + 0.5) / grain - 0.5)
        let iy = Int(fy)
        let ty = fy - Float(iy)
        let top = iy &* gridWidth
        let bottom = top &+ gridWidth
        values.withUnsafeBufferPointer { v in
            column.withUnsafeBufferPointer { c in
                columnWeight.withUnsafeBufferPointer { w in
                    out.withUnsafeMutableBufferPointer { o in
                        for x in 0..<o.count {
                            let ix = Int(c[x])
                            let tx = w[x]
                            let upper = v[top &+ ix] + (v[top &+ ix &+ 1] - v[top &+ ix]) * tx
                            let lower = v[bottom &+ ix] + (v[bottom &+ ix &+ 1] - v[bottom &+ ix]) * tx
                            o[x] = upper + (lower - upper) * ty
                        }
                    }
                }
            }
        }
    }
}

/// 65,536 standard-normal quantiles, indexed by 16 random bits: fast, reproducible pixel noise.
enum GaussianTable {
    static let values: [Float] = (0..<65_536).map { i in
        Float(inverseNormal((Double(i) + 0.5) / 65_536))
    }

    /// Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
    static func inverseNormal(_ p: Double) -> Double {
        let a = [
            -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
            1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00,
        ]
        let b = [
            -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
            6.680131188771972e+01, -1.328068155288572e+01,
        ]
        let c = [
            -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
            -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00,
        ]
        let d = [
            7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
            3.754408661907416e+00,
        ]
        let low = 0.02425
        if p < low {
            let q = (-2 * _log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low { return -inverseNormal(1 - p) }
        let q = p - 0.5
        let r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
