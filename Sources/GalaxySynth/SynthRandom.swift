/// A small, fast, reproducible random number generator (xoshiro256**, seeded through SplitMix64).
///
/// Every synthetic image draws from its own generator derived from `(seed, index)`, so a data set
/// is the same byte for byte whatever the thread count and whichever image renders first.
public struct SynthRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// A generator for one seed.
    public init(seed: UInt64) {
        var sm = seed
        s0 = SynthRandom.splitMix(&sm)
        s1 = SynthRandom.splitMix(&sm)
        s2 = SynthRandom.splitMix(&sm)
        s3 = SynthRandom.splitMix(&sm)
    }

    /// A generator for item `index` of the stream named by `seed`.
    public init(seed: UInt64, index: UInt64) {
        self.init(seed: SynthRandom.derive(seed: seed, index: index))
    }

    /// A well-mixed 64-bit value for item `index` of stream `seed` (also used as a per-image seed).
    public static func derive(seed: UInt64, index: UInt64) -> UInt64 {
        var sm = seed ^ 0x6A09_E667_F3BC_C909
        _ = splitMix(&sm)
        sm ^= index &* 0x9E37_79B9_7F4A_7C15
        return splitMix(&sm)
    }

    @inline(__always)
    static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in `[0, 1)`.
    @inline(__always)
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in `[low, high)`.
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * unit()
    }

    /// Standard normal (Box-Muller; one value per call keeps the stream easy to reason about).
    public mutating func normal(mean: Double = 0, sd: Double = 1) -> Double {
        let u1 = max(unit(), 1e-300)
        let u2 = unit()
        return mean + sd * (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// Log-normal with the given median and multiplicative spread (sigma of the log).
    public mutating func logNormal(median: Double, sigma: Double) -> Double {
        median * _exp(normal(sd: sigma))
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// An integer in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &self)
    }

    /// An angle in `[0, 2pi)`.
    public mutating func angle() -> Double { uniform(0, 2 * Double.pi) }
}
