// How each morphology is assembled from profiles. Class parameters overlap between neighbouring
// types on purpose (a "stage" drawn around each class's nominal value), as in real data.

extension Scene {
    mutating func drawGalaxy(_ kind: GalaxyKind) {
        switch kind {
        case .elliptical(let range):
            var q = rng.uniform(range.lowerBound, range.upperBound) + rng.normal(sd: 0.035)
            q = min(max(q, 0.15), 1)
            drawElliptical(x: centreX, y: centreY, radius90: radius90, axisRatio: q, brightness: brightness)
        case .spiral(let nominal, let barred):
            let stage = min(max(nominal + rng.normal(sd: 0.42), -0.6), 3.6)
            let cosInclination = rng.uniform(0.3, 1)
            let q = (cosInclination * cosInclination * 0.96 + 0.04).squareRoot()
            drawDisk(
                x: centreX, y: centreY, radius90: radius90, stage: stage, barred: barred, axisRatio: q,
                brightness: brightness)
        case .edgeOn:
            drawEdgeOn()
        case .ambiguous(let scene):
            drawAmbiguous(scene)
        }
    }

    // MARK: Ellipticals

    mutating func drawElliptical(x: Float, y: Float, radius90: Float, axisRatio: Double, brightness: Float) {
        let n = Float(rng.uniform(2.5, 5.5))
        let re = radius90 / Float(rng.uniform(2.6, 3.4))
        let profile = SersicProfile(
            colour: oldColour(),
            intensityAtRe: 0.18 * brightness * Float(rng.logNormal(median: 1, sigma: 0.25)),
            effectiveRadius: re, index: n, projection: Projection(angle: rng.angle(), axisRatio: axisRatio))
        add(profile, x: x, y: y, radius: profile.reach)
    }

    // MARK: Spirals and barred spirals

    /// A bulge plus an exponential disk with logarithmic arms; `stage` 0 (Sa) ... 3 (Sd) sets the
    /// bulge share, the pitch angle, the arm contrast and the clumpiness.
    mutating func drawDisk(
        x: Float, y: Float, radius90: Float, stage t: Double, barred: Bool, axisRatio q: Double,
        brightness: Float
    ) {
        let h = radius90 / 3.5 * Float(rng.logNormal(median: 1, sigma: 0.08))
        let angle = rng.angle()
        let projection = Projection(angle: angle, axisRatio: q)
        let centralIntensity = 0.35 * brightness * Float(rng.logNormal(median: 1, sigma: 0.2))
        let diskFlux = 2 * Double.pi * Double(h * h) * q * Double(centralIntensity)

        // Bulge: large and concentrated for Sa, small or absent for Sd.
        // A bar holds part of the inner light that an unbarred disk keeps in its bulge.
        let bulgeShare = min(max(0.36 - 0.11 * t + rng.normal(sd: 0.07), 0.01), 0.7) * (barred ? 0.7 : 1)
        let bulgeIndex = min(max(3.2 - 0.7 * t + rng.normal(sd: 0.4), 0.8), 4.5)
        let bulgeRe = Double(h) * min(max(0.32 - 0.05 * t + rng.normal(sd: 0.05), 0.08), 0.5)
        let bulgeQ = 1 - (1 - q) * rng.uniform(0.3, 0.7)
        let unitFlux = SersicProfile.totalFlux(intensityAtRe: 1, re: bulgeRe, n: bulgeIndex, q: bulgeQ)
        let bulgeIe = bulgeShare / (1 - bulgeShare) * diskFlux / unitFlux

        // Bar (barred types): long and strong in early types, shorter later; some bars are weak.
        var barLength: Float = 0
        let barAngle = rng.angle()
        if barred {
            barLength = h * Float(min(max(1.6 - 0.17 * t + rng.normal(sd: 0.25), 0.55), 2.3))
            let strength = Float(rng.chance(0.15) ? rng.uniform(0.3, 0.55) : rng.uniform(0.7, 1.4))
            let bar = BarProfile(
                colour: diskColour(youth: 0.15), intensity: centralIntensity * strength * 1.6,
                halfLength: barLength, halfWidth: barLength * Float(rng.uniform(0.17, 0.32)),
                cosBar: Float(_cos(barAngle)), sinBar: Float(_sin(barAngle)), projection: projection)
            add(bar, x: x, y: y, radius: barLength * 1.6)
        }

        // Arms: tightly wound and smooth for Sa, open and patchy for Sd.
        let pitchDegrees = min(max(9 + 7 * t + rng.normal(sd: 3.5), 4.5), 42)
        let armCount: Float
        if barred || t < 1.2 {
            armCount = rng.chance(0.9) ? 2 : 3
        } else {
            let u = rng.unit()
            armCount = u < 0.6 ? 2 : (u < 0.85 ? 3 : 4)
        }
        let armStart = barred ? barLength : h * Float(rng.uniform(0.45, 0.9))
        // Arms are most contrasted and crisp in Sb-Sc; Sd arms are patchy rather than crisp.
        let contrast = Float(min(max(0.28 + 0.16 * t - 0.03 * t * t + rng.normal(sd: 0.12), 0.08), 0.85))
        let sharpness = Float(min(max(2.6 + 0.6 * t - 0.25 * t * t + rng.normal(sd: 0.6), 1), 6))
        let truncation = h * Float(rng.uniform(3.6, 5))
        let hasRing = barred ? rng.chance(0.3) : rng.chance(0.07)
        let ringRadius = barred ? barLength * 1.05 : armStart * 1.3
        let disk = SpiralDiskProfile(
            diskColour: diskColour(youth: 0.25 + 0.15 * t), armColour: youngColour(),
            centralIntensity: centralIntensity, scaleLength: h, arms: armCount,
            winding: Float(1 / _tanDegrees(pitchDegrees)),
            phase: barred ? Float(barAngle) : Float(rng.angle()),
            armStart: max(armStart, 1), armContrast: contrast, armSharpness: sharpness,
            truncation: truncation,
            ringIntensity: hasRing
                ? centralIntensity * Float(rng.uniform(0.15, 0.35)) * _expf(-ringRadius / h) : 0,
            ringRadius: ringRadius, ringWidth: ringRadius * 0.14 + 0.5, projection: projection)
        add(disk, x: x, y: y, radius: truncation + 2 * h)

        if bulgeIe > 0 {
            let bulge = SersicProfile(
                colour: oldColour(), intensityAtRe: Float(bulgeIe), effectiveRadius: Float(bulgeRe),
                index: Float(bulgeIndex), projection: Projection(angle: angle, axisRatio: bulgeQ))
            add(bulge, x: x, y: y, radius: bulge.reach)
        }

        // Star-forming knots strung along the arms: few in Sa, many and scattered in Sd.
        let knots = max(0, Int(Double(contrast) * (4 + 9 * t) + rng.normal(sd: 3)))
        let knotColour = youngColour()
        for _ in 0..<knots {
            let r = armStart * 1.3 + h * Float(-_log(max(rng.unit(), 1e-6)) * 1.3)
            if r > truncation { continue }
            let arm = Float(rng.int(0...Int(armCount) - 1))
            let theta =
                disk.phase + arm * 2 * Float.pi / armCount
                + disk.winding * _logf(r / disk.armStart) + Float(rng.normal(sd: 0.1 + 0.06 * t))
            let offset = Scene.imageOffset(x: r * _cosf(theta), y: r * _sinf(theta), projection: projection)
            let sigma = max(0.6 * scale, h * Float(rng.uniform(0.03, 0.09)))
            let knot = GaussianProfile(
                colour: knotColour,
                intensity: centralIntensity * _expf(-r / h) * Float(rng.uniform(0.3, 1.1)), sigma: sigma)
            add(knot, x: x + offset.dx, y: y + offset.dy, radius: sigma * 4)
        }
    }

    // MARK: Edge-on disks

    mutating func drawEdgeOn() {
        let h = radius90 / 3.3 * Float(rng.logNormal(median: 1, sigma: 0.1))
        let angle = rng.angle()
        let z0 = h * Float(rng.uniform(0.07, 0.2))
        let intensity = 0.6 * brightness * Float(rng.logNormal(median: 1, sigma: 0.2))
        let projection = Projection(angle: angle, axisRatio: 1)
        let truncation = h * Float(rng.uniform(3.2, 4.5))
        let disk = EdgeOnDiskProfile(
            colour: diskColour(youth: rng.uniform(0.1, 0.6)), intensity: intensity, scaleLength: h,
            scaleHeight: z0, truncation: truncation, projection: projection)
        add(disk, x: centreX, y: centreY, radius: truncation + 2 * h)
        if rng.chance(0.85) {
            let re = h * Float(rng.uniform(0.2, 0.45))
            let bulge = SersicProfile(
                colour: oldColour(), intensityAtRe: intensity * Float(rng.uniform(0.15, 0.7)),
                effectiveRadius: re,
                index: Float(rng.uniform(1, 4)),
                projection: Projection(angle: angle, axisRatio: rng.uniform(0.45, 0.9)))
            add(bulge, x: centreX, y: centreY, radius: bulge.reach)
        }
        if rng.chance(0.6) {
            let depth = Float(rng.uniform(0.3, 0.85))
            let lane = DustLaneProfile(
                depth: SIMD4<Float>(0.75 * depth, 0.88 * depth, depth, 0),
                offset: z0 * Float(rng.normal(sd: 0.3)),
                width: z0 * Float(rng.uniform(0.35, 0.7)), length: h * Float(rng.uniform(2, 3.2)),
                projection: projection)
            canvas.attenuate(
                lane, cx: centreX, cy: centreY,
                box: canvas.box(cx: centreX, cy: centreY, radius: truncation + 2 * h))
        }
    }
}

@inline(__always) func _tanDegrees(_ degrees: Double) -> Double {
    let r = degrees * Double.pi / 180
    return _sin(r) / _cos(r)
}
