// Class A ("star or artefact" in Galaxy Zoo 2, plus the mergers and empty fields that the
// workflow we descend from files under it), and the foreground stars every frame has.

extension Scene {
    mutating func drawAmbiguous(_ forced: AmbiguousScene? = nil) {
        let u = rng.unit()
        let scene = forced ?? (u < 0.3 ? .brightStar : u < 0.6 ? .merger : u < 0.8 ? .artefact : .emptyField)
        switch scene {
        case .brightStar: drawBrightStar()
        case .merger: drawMerger()
        case .artefact: drawArtefact()
        case .emptyField: drawEmptyField()
        }
    }

    /// A saturated foreground star near the centre, sometimes with a faint galaxy beside it.
    private mutating func drawBrightStar() {
        let x = centreX + Float(rng.normal(sd: 6)) * scale
        let y = centreY + Float(rng.normal(sd: 6)) * scale
        drawStar(x: x, y: y, intensity: Float(rng.logNormal(median: 6, sigma: 0.7)), spikes: rng.chance(0.8))
        if rng.chance(0.35) {
            let angle = rng.angle()
            let distance = radius90 * Float(rng.uniform(0.8, 1.8))
            drawElliptical(
                x: x + distance * Float(_cos(angle)), y: y + distance * Float(_sin(angle)),
                radius90: radius90 * Float(rng.uniform(0.25, 0.5)), axisRatio: rng.uniform(0.4, 1),
                brightness: brightness * 0.6)
        }
    }

    /// Two overlapping galaxies, with a tidal tail of knots when they interact.
    private mutating func drawMerger() {
        let angle = rng.angle()
        let separation = radius90 * Float(rng.uniform(0.5, 1.3))
        let share = Float(rng.uniform(0.35, 0.65))
        let offsetX = separation * Float(_cos(angle))
        let offsetY = separation * Float(_sin(angle))
        let centres = [
            (centreX - offsetX * share, centreY - offsetY * share),
            (centreX + offsetX * (1 - share), centreY + offsetY * (1 - share)),
        ]
        for (x, y) in centres {
            let size = radius90 * Float(rng.uniform(0.45, 0.8))
            if rng.chance(0.5) {
                drawElliptical(
                    x: x, y: y, radius90: size, axisRatio: rng.uniform(0.4, 1), brightness: brightness)
            } else {
                let cosInclination = rng.uniform(0.3, 1)
                drawDisk(
                    x: x, y: y, radius90: size, stage: rng.uniform(0, 3), barred: rng.chance(0.2),
                    axisRatio: (cosInclination * cosInclination * 0.96 + 0.04).squareRoot(),
                    brightness: brightness)
            }
        }
        if rng.chance(0.7) {
            // A curved tail: knots along an arc leaving one of the pair.
            let (x0, y0) = centres[rng.int(0...1)]
            let start = rng.angle()
            let bend = Float(rng.uniform(0.5, 1.4)) * (rng.chance(0.5) ? 1 : -1)
            let length = radius90 * Float(rng.uniform(1, 2))
            let colour = diskColour(youth: 0.6)
            let steps = 24
            for i in 1...steps {
                let f = Float(i) / Float(steps)
                let theta = Float(start) + bend * f
                let r = length * f
                let sigma = radius90 * Float(0.05 + 0.06 * f)
                let blob = GaussianProfile(
                    colour: colour,
                    intensity: 0.15 * brightness * (1 - 0.7 * f) * Float(rng.uniform(0.6, 1.2)),
                    sigma: sigma)
                add(blob, x: x0 + r * _cosf(theta), y: y0 + r * _sinf(theta), radius: sigma * 4)
            }
        }
    }

    /// A satellite trail or a bad column over a faint or small target.
    private mutating func drawArtefact() {
        if rng.chance(0.5) {
            drawElliptical(
                x: centreX, y: centreY, radius90: radius90 * Float(rng.uniform(0.15, 0.4)),
                axisRatio: rng.uniform(0.5, 1), brightness: brightness * 0.5)
        }
        if rng.chance(0.65) {
            let angle = rng.angle()
            let passDistance = Float(rng.normal(sd: 25)) * scale
            let nx = Float(_cos(angle))
            let ny = Float(_sin(angle))
            let level = Float(rng.logNormal(median: 0.25, sigma: 0.5))
            let trail = TrailProfile(
                intensity: SIMD4<Float>(level * 1.1, level, level * 1.2, 0), normalX: nx, normalY: ny,
                separation: scale * Float(rng.uniform(1.5, 5)), width: max(1, psfSigma * 0.9))
            canvas.add(
                trail, cx: centreX + nx * passDistance, cy: centreY + ny * passDistance, box: canvas.fullBox)
        } else {
            // A bad column: one band reads high along part of a CCD column.
            let width = canvas.width
            let column = Int(centreX + Float(rng.normal(sd: 20)) * scale)
            let thickness = max(1, Int(scale * Float(rng.uniform(1, 4))))
            let band = rng.int(0...2)
            let level = Float(rng.logNormal(median: 0.4, sigma: 0.4))
            let from = rng.chance(0.5) ? 0 : rng.int(0...(canvas.height / 2))
            let to = rng.chance(0.5) ? canvas.height : rng.int((canvas.height / 2)...canvas.height)
            for y in from..<to {
                for x in max(0, column)..<min(width, column + thickness) {
                    let i = y * width + x
                    switch band {
                    case 0: canvas.red[i] += level
                    case 1: canvas.green[i] += level
                    default: canvas.blue[i] += level
                    }
                }
            }
        }
    }

    /// Nothing at the centre: sky, a few smudges off-centre, extra field stars.
    private mutating func drawEmptyField() {
        for _ in 0..<rng.int(0...3) {
            let sigma = radius90 * Float(rng.uniform(0.05, 0.15))
            let blob = GaussianProfile(
                colour: diskColour(youth: rng.unit()),
                intensity: 0.1 * brightness * Float(rng.uniform(0.3, 1)),
                sigma: sigma)
            add(
                blob, x: Float(rng.uniform(0, Double(canvas.width))),
                y: Float(rng.uniform(0, Double(canvas.height))),
                radius: sigma * 4)
        }
        for _ in 0..<rng.int(1...4) {
            drawStar(
                x: Float(rng.uniform(0, Double(canvas.width))),
                y: Float(rng.uniform(0, Double(canvas.height))),
                intensity: Float(rng.logNormal(median: 0.3, sigma: 0.8)), spikes: false)
        }
    }

    // MARK: Stars

    /// Field stars scattered over the frame; a few are bright.
    mutating func drawForegroundStars() {
        let expected = 1.6
        var count = 0
        // Poisson by inversion of cumulative probabilities.
        var p = _exp(-expected)
        var cumulative = p
        let u = rng.unit()
        while u > cumulative && count < 12 {
            count += 1
            p *= expected / Double(count)
            cumulative += p
        }
        for _ in 0..<count {
            let x = Float(rng.uniform(0, Double(canvas.width)))
            let y = Float(rng.uniform(0, Double(canvas.height)))
            let bright = rng.chance(0.08)
            let intensity = Float(
                bright ? rng.logNormal(median: 3, sigma: 0.6) : rng.logNormal(median: 0.15, sigma: 0.9))
            drawStar(x: x, y: y, intensity: intensity, spikes: bright && rng.chance(0.6))
        }
    }

    /// A point source with the same seeing as the galaxy; queued, and drawn after the galaxy's blur.
    mutating func drawStar(x: Float, y: Float, intensity: Float, spikes: Bool) {
        let temperature = Float(rng.uniform(-1, 1))
        let colour = SIMD4<Float>(1 + 0.35 * temperature, 1, 1 - 0.35 * temperature, 0)
        let sigma = psfSigma * 0.8 + 0.4 * scale
        let spikeLength = spikes ? sigma * Float(rng.uniform(6, 14)) * min(3, intensity.squareRoot()) : 0
        let star = StarProfile(
            colour: colour, intensity: intensity, sigma: sigma, wing: 0.04, spike: spikes ? 0.08 : 0,
            spikeLength: max(spikeLength, 1), spikeWidth: max(0.6, sigma * 0.35))
        let reach = max(sigma * 6 * max(1, intensity.squareRoot()), spikeLength * 5)
        stars.append((star, x, y, reach))
    }
}
