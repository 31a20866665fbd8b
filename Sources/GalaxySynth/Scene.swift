import GalaxyImage

/// One frame being drawn: the observing conditions, the canvas and the random stream.
struct Scene {
    var rng: SynthRandom
    var canvas: FloatCanvas
    /// Pixels per pixel of a 424 frame.
    let scale: Float
    let centreX: Float
    let centreY: Float
    /// Radius holding 90% of the galaxy light; Galaxy Zoo scales cutouts so it is ~50 px of 424.
    let radius90: Float
    /// Gaussian sigma of the seeing, in pixels of this frame.
    let psfSigma: Float
    /// Overall surface brightness of the target relative to a typical galaxy.
    let brightness: Float
    var exposure: Exposure
    /// Where the main target's light lies (the seeing blurs this area).
    var blurBox: FloatCanvas.Box
    /// Point sources, drawn after the blur because their profile already includes the seeing.
    var stars: [(profile: StarProfile, x: Float, y: Float, reach: Float)] = []

    init(size: Int, seed: UInt64) {
        rng = SynthRandom(seed: seed)
        canvas = FloatCanvas(width: size, height: size)
        scale = Float(size) / 424
        // The survey cutouts are 0.02 * petroR90 arcsec per pixel: small galaxies are blown up,
        // so their seeing (about 0.6" sigma) and pixels look coarse.
        let petroR90 = min(max(rng.logNormal(median: 9, sigma: 0.45), 3.2), 40)
        let arcsecPerPixel = 0.02 * petroR90
        psfSigma = scale * Float(min(max(rng.logNormal(median: 0.62, sigma: 0.15) / arcsecPerPixel, 1.0), 10))
        let grain = max(1, Float(0.396 / arcsecPerPixel) * scale)
        radius90 = scale * 56 * Float(rng.logNormal(median: 1, sigma: 0.12))
        let jitter = 3 * scale
        centreX = Float(size) / 2 + Float(min(max(rng.normal(sd: 1), -2.5), 2.5)) * jitter
        centreY = Float(size) / 2 + Float(min(max(rng.normal(sd: 1), -2.5), 2.5)) * jitter
        // Smaller (more distant) galaxies tend to be fainter too; some are faint regardless.
        let distanceDimming = Float(min(1.3, max(0.35, petroR90 / 9)))
        brightness = Float(rng.logNormal(median: 1, sigma: 0.35)) * (0.5 + 0.5 * distanceDimming)
        let noise = Float(rng.logNormal(median: 0.007, sigma: 0.25))
        exposure = Exposure(
            noise: SIMD4<Float>(noise * 1.05, noise, noise * 1.25, 0),
            skyLevel: SIMD4<Float>(
                Float(rng.normal(sd: 0.002)), Float(rng.normal(sd: 0.002)),
                Float(rng.normal(sd: 0.002)) + 0.001, 0),
            softening: Float(rng.uniform(10, 20)),
            gain: Float(rng.logNormal(median: 1, sigma: 0.1)),
            grain: grain,
            noiseSeed: rng.next())
        blurBox = FloatCanvas.Box(x0: 0, y0: 0, x1: 0, y1: 0)
    }

    /// Marks the square of half-side `radius` around `(x, y)` as needing the seeing blur.
    mutating func markLight(x: Float, y: Float, radius: Float) {
        let b = canvas.box(cx: x, cy: y, radius: radius + 3 * psfSigma)
        if blurBox.isEmpty {
            blurBox = b
        } else {
            blurBox = FloatCanvas.Box(
                x0: min(blurBox.x0, b.x0), y0: min(blurBox.y0, b.y0),
                x1: max(blurBox.x1, b.x1), y1: max(blurBox.y1, b.y1))
        }
    }

    mutating func add<P: SurfaceProfile>(_ profile: P, x: Float, y: Float, radius: Float) {
        canvas.add(profile, cx: x, cy: y, box: canvas.box(cx: x, cy: y, radius: radius))
        markLight(x: x, y: y, radius: radius)
    }

    /// Seeing, then noise and the display stretch.
    mutating func develop() -> RGBImage {
        canvas.blur(sigma: psfSigma, box: blurBox)
        for star in stars {
            canvas.add(
                star.profile, cx: star.x, cy: star.y,
                box: canvas.box(cx: star.x, cy: star.y, radius: star.reach))
        }
        return exposure.develop(canvas)
    }

    // MARK: Colours (linear flux per band, green = 1)

    /// Old stars: ellipticals, bulges, bars. Yellow to orange in the gri composite.
    mutating func oldColour() -> SIMD4<Float> {
        SIMD4<Float>(Float(rng.normal(mean: 1.32, sd: 0.05)), 1, Float(rng.normal(mean: 0.66, sd: 0.04)), 0)
    }

    /// Young stars: arms and knots. Blue-white.
    mutating func youngColour() -> SIMD4<Float> {
        SIMD4<Float>(Float(rng.normal(mean: 0.82, sd: 0.05)), 1, Float(rng.normal(mean: 1.32, sd: 0.08)), 0)
    }

    /// A disk mixing both populations: `youth` 0 (red) ... 1 (blue).
    mutating func diskColour(youth: Double) -> SIMD4<Float> {
        let y = Float(min(max(youth + rng.normal(sd: 0.1), 0), 1))
        return oldColour() * (1 - y) + youngColour() * y
    }

    /// Disk-plane offsets -> image offsets (the inverse of `Projection.plane`).
    static func imageOffset(x: Float, y: Float, projection p: Projection) -> (dx: Float, dy: Float) {
        let yq = y / p.inverseAxisRatio
        return (x * p.cosAngle - yq * p.sinAngle, x * p.sinAngle + yq * p.cosAngle)
    }
}
