// Surface-brightness profiles of the synthetic galaxies. Each maps an offset from its centre in
// image pixels to linear (r, g, b) flux; the renderer adds them into a FloatCanvas.

/// Rotation by a position angle and flattening by an axis ratio: image offsets -> disk-plane
/// coordinates (x along the major axis, y along the minor axis stretched back by 1/q).
struct Projection {
    var cosAngle: Float
    var sinAngle: Float
    var inverseAxisRatio: Float

    init(angle: Double, axisRatio: Double) {
        cosAngle = Float(_cos(angle))
        sinAngle = Float(_sin(angle))
        inverseAxisRatio = Float(1 / max(axisRatio, 0.02))
    }

    @inline(__always)
    func plane(_ dx: Float, _ dy: Float) -> (x: Float, y: Float) {
        (dx * cosAngle + dy * sinAngle, (dy * cosAngle - dx * sinAngle) * inverseAxisRatio)
    }
}

/// Sersic profile `I(r) = Ie * exp(-b_n ((r/re)^(1/n) - 1))`: ellipticals (n ~ 4) and bulges.
struct SersicProfile: SurfaceProfile {
    let colour: SIMD4<Float>
    let intensityAtRe: Float
    let projection: Projection
    private let inverseRe2: Float
    private let halfInverseIndex: Float
    private let bn: Float
    /// (truncation / re)^2: beyond it the wings fade to zero within about one re, so the light
    /// ends well inside the rectangle the renderer draws.
    private let truncation2: Float

    /// Radius in pixels of the rectangle that holds all of this profile's light.
    let reach: Float

    init(
        colour: SIMD4<Float>, intensityAtRe: Float, effectiveRadius: Float, index: Float,
        projection: Projection,
        truncation: Float = 7
    ) {
        self.colour = colour
        self.intensityAtRe = intensityAtRe
        self.projection = projection
        inverseRe2 = 1 / (effectiveRadius * effectiveRadius)
        halfInverseIndex = 0.5 / index
        bn = SersicProfile.bn(index)
        truncation2 = truncation * truncation
        reach = effectiveRadius * (truncation + 2.5) + 1
    }

    @inline(__always)
    func flux(_ dx: Float, _ dy: Float) -> SIMD4<Float> {
        let p = projection.plane(dx, dy)
        // A quarter-pixel core keeps the cusp finite on the pixel grid.
        let r2 = (p.x * p.x + p.y * p.y + 0.25) * inverseRe2
        let t = _expf(_logf(r2) * halfInverseIndex)
        var value = intensityAtRe * _expf(-bn * (t - 1))
        if r2 > truncation2 {
            let over = r2.squareRoot() - truncation2.squareRoot()
            value *= _expf(-2 * over * over)
        }
        return colour * value
    }

    /// The b_n that makes `re` the half-light radius (Ciotti & Bertin 1999 expansion).
    static func bn(_ n: Float) -> Float { 2 * n - 1.0 / 3.0 + 0.009876 / n }

    /// Total flux of a Sersic profile with axis ratio `q`.
    static func totalFlux(intensityAtRe: Double, re: Double, n: Double, q: Double) -> Double {
        let b = Double(bn(Float(n)))
        return 2 * Double.pi * n * re * re * q * intensityAtRe * _exp(b) * tgammaShim(2 * n)
            / _exp(2 * n * _log(b))
    }
}

/// An exponential disk with logarithmic spiral arms, an optional bar-end start and inner ring.
struct SpiralDiskProfile: SurfaceProfile {
    var diskColour: SIMD4<Float>
    var armColour: SIMD4<Float>
    var centralIntensity: Float
    var scaleLength: Float
    var arms: Float
    /// 1 / tan(pitch angle).
    var winding: Float
    var phase: Float
    /// Radius where the arms start (bulge edge or bar end).
    var armStart: Float
    /// Fraction of the disk light that the arms gather.
    var armContrast: Float
    /// Higher makes narrower arms (the exponent of the arm's cosine profile, 1...8).
    var armSharpness: Float
    /// Radius beyond which the disk fades out.
    var truncation: Float
    var ringIntensity: Float
    var ringRadius: Float
    var ringWidth: Float
    var projection: Projection

    @inline(__always)
    func flux(_ dx: Float, _ dy: Float) -> SIMD4<Float> {
        let p = projection.plane(dx, dy)
        let r2 = p.x * p.x + p.y * p.y + 0.25
        let r = r2.squareRoot()
        var base = centralIntensity * _expf(-r / scaleLength)
        if r > truncation {
            let over = (r - truncation) / scaleLength
            base *= _expf(-2 * over * over)
        }
        let theta = _atan2f(p.y, p.x)
        let spiralPhase = arms * (theta - winding * _logf(r / armStart) - phase)
        let s = 0.5 + 0.5 * _cosf(spiralPhase)
        let arm = _powf(s, armSharpness)
        // Arms fade in over the bulge or bar and are absent inside it.
        let ramp = min(max((r - 0.7 * armStart) / (0.5 * armStart), 0), 1)
        let a = armContrast * ramp
        // Mean of s^k is below one; scaling by (k + 1) roughly preserves the arm-gathered light.
        let armLight = base * a * arm * (0.6 * armSharpness + 1)
        var light = diskColour * (base * (1 - a)) + armColour * armLight
        if ringIntensity > 0 {
            let d = (r - ringRadius) / ringWidth
            light += armColour * (ringIntensity * _expf(-d * d))
        }
        return light
    }
}

/// A bar: a boxy elongated component in the disk plane.
struct BarProfile: SurfaceProfile {
    var colour: SIMD4<Float>
    var intensity: Float
    var halfLength: Float
    var halfWidth: Float
    var cosBar: Float
    var sinBar: Float
    var projection: Projection

    @inline(__always)
    func flux(_ dx: Float, _ dy: Float) -> SIMD4<Float> {
        let p = projection.plane(dx, dy)
        let u = (p.x * cosBar + p.y * sinBar) / halfLength
        let v = (p.y * cosBar - p.x * sinBar) / halfWidth
        let u2 = u * u
        return colour * (intensity * _expf(-u2 * u2 - v * v))
    }
}

/// A disk seen edge-on: exponential along the major axis, sech^2 across it.
struct EdgeOnDiskProfile: SurfaceProfile {
    var colour: SIMD4<Float>
    var intensity: Float
    var scaleLength: Float
    var scaleHeight: Float
    var truncation: Float
    var projection: Projection

    @inline(__always)
    func flux(_ dx: Float, _ dy: Float) -> SIMD4<Float> {
        let x = dx * projection.cosAngle + dy * projection.sinAngle
        let y = dy * projection.cosAngle - dx * projection.sinAngle
        let ax = abs(x)
        var radial = _expf(-ax / scaleLength)
        if ax > truncation {
            let over = (ax - truncation) / scaleLength
            radial *= _expf(-3 * over * over)
        }
        let e = _expf(-2 * abs(y) / scaleHeight)
        let sech2 = 4 * e / ((1 + e) * (1 + e))
        return colour * (intensity * radial * sech2)
    }
}

/// Transmission of a dust lane along the major axis of an edge-on disk (bluer light dims more).
struct DustLaneProfile: SurfaceProfile {
    var depth: SIMD4<Float>
    var offset: Float
    var width: Float
    var length: Float
    var projection: Projection

    @inline(__always)
    func flux(_ dx: Float, _ dy: Float) -> SIMD4<Float> {
        let x = dx * projection.cosAngle + dy * projection.sinAngle
        let y = dy * projection.cosAngle - dx * projection.sinAngle - offset
        let across = y / width
        let along = x / length
        let opacity = _expf(-across * across - along * along * along * along)
        return SIMD4<Float>(repeating: 1) - depth * opacity
    }
}

/// A round Gaussian blob: star-forming knots, faint companions, the core of a star.
struct GaussianProfile: SurfaceProfile {
    var colour: SIMD4<Float>
    var intensity: Float
    var sigma: Float

    @inline(__always)
    func flux(_ dx: Float, _ dy: Float) -> SIMD4<Float> {
        colour * (intensity * _expf(-(dx * dx + dy * dy) / (2 * sigma * sigma)))
    }
}

/// A star: Gaussian core, power-law wings and, when bright, diffraction spikes along the pixel axes.
struct StarProfile: SurfaceProfile {
    var colour: SIMD4<Float>
    var intensity: Float
    var sigma: Float
    var wing: Float
    var spike: Float
    var spikeLength: Float
    var spikeWidth: Float

    @inline(__always)
    func flux(_ dx: Float, _ dy: Float) -> SIMD4<Float> {
        let r2 = dx * dx + dy * dy
        let core = _expf(-r2 / (2 * sigma * sigma))
        let m = 1 + r2 / (4 * sigma * sigma)
        let halo = wing / (m * m * m)
        var light = core + halo
        if spike > 0 {
            let ax = abs(dx)
            let ay = abs(dy)
            let horizontal = _expf(-ay / spikeWidth - ax / spikeLength)
            let vertical = _expf(-ax / spikeWidth - ay / spikeLength)
            light += spike * (horizontal + vertical)
        }
        return colour * (intensity * light)
    }
}

/// A satellite trail: three parallel lines offset in r, g and b, because the survey exposed
/// the bands at different moments while the satellite moved.
struct TrailProfile: SurfaceProfile {
    var intensity: SIMD4<Float>
    var normalX: Float
    var normalY: Float
    var separation: Float
    var width: Float

    @inline(__always)
    func flux(_ dx: Float, _ dy: Float) -> SIMD4<Float> {
        let d = (dx * normalX + dy * normalY) / width
        let s = separation / width
        let dr = d + s
        let db = d - s
        return intensity * SIMD4<Float>(_expf(-dr * dr), _expf(-d * d), _expf(-db * db), 0)
    }
}
