import GalaxyCore
import GalaxyImage
import Testing

@testable import GalaxySynth

/// Physical sanity of the rendered classes, on averages over many seeds (single images vary, as
/// real ones do). Linear measures come from the light before noise and stretch; display measures
/// from the final pixels.
@Suite struct MorphologyTests {
    static let perClass = 16
    static let size = 160
    static let renderer = SyntheticGalaxyRenderer(size: size)

    static func seeds() -> [UInt64] { (0..<UInt64(perClass)).map { 1000 + $0 * 7919 } }

    static func display(_ label: String) throws -> [ImageMeasures] {
        try seeds().map { ImageMeasures(try renderer.render(label: label, seed: $0)) }
    }

    static func linear(_ label: String) -> [LinearMeasures] {
        seeds().map { seed in
            var scene = Scene(size: size, seed: seed)
            scene.drawGalaxy(GalaxyKind(label: label)!)
            return LinearMeasures(scene)
        }
    }

    static func mean(_ values: [Float]) -> Float { values.reduce(0, +) / Float(values.count) }

    @Test func ellipticalsAreMoreConcentratedThanLateSpirals() {
        let elliptical = Self.mean(Self.linear("Er").map(\.concentration))
        let sd = Self.mean(Self.linear("Sd").map(\.concentration))
        let sa = Self.mean(Self.linear("Sa").map(\.concentration))
        // de Vaucouleurs R90/R50 is about 3.3 (with seeing, less), an exponential disk 2.3.
        #expect(elliptical > sd + 0.4, "R90/R50: Er \(elliptical), Sd \(sd)")
        #expect(sa > sd + 0.15, "R90/R50: Sa \(sa) (big bulge), Sd \(sd)")
    }

    @Test func axisRatiosFollowTheClasses() {
        let er = Self.mean(Self.linear("Er").map(\.axisRatio))
        let ei = Self.mean(Self.linear("Ei").map(\.axisRatio))
        let ec = Self.mean(Self.linear("Ec").map(\.axisRatio))
        let se = Self.linear("Se").map(\.axisRatio)
        #expect(er > 0.8, "Er mean axis ratio \(er)")
        #expect(er > ei + 0.1 && ei > ec + 0.1, "Er \(er) > Ei \(ei) > Ec \(ec)")
        #expect(Self.mean(se) < 0.3, "Se mean axis ratio \(Self.mean(se))")
        // A big bulge can round an edge-on disk's overall shape, but rarely.
        #expect(se.filter { $0 > 0.45 }.count <= 2, "edge-on disks are thin: \(se)")
    }

    @Test func ellipticalCoresAreRedderThanLateSpirals() throws {
        let er = Self.mean(try Self.display("Er").map(\.centralColour))
        let sd = Self.mean(try Self.display("Sd").map(\.centralColour))
        #expect(er > sd + 0.3, "(red - blue) / light: Er \(er), Sd \(sd)")
    }

    @Test func emptySkyIsDim() {
        let empty = Self.seeds().map {
            ImageMeasures(Self.renderer.render(.ambiguous(.emptyField), seed: $0)).centralBrightness
        }
        let galaxies = Self.seeds().map {
            ImageMeasures(Self.renderer.render(.spiral(stage: 1, barred: false), seed: $0)).centralBrightness
        }
        #expect(Self.mean(empty) < 6, "empty fields, mean central brightness \(Self.mean(empty))")
        #expect(Self.mean(galaxies) > 4 * Self.mean(empty) + 10, "Sb \(Self.mean(galaxies))")
    }

    @Test func barredSpiralsHaveElongatedCores() {
        // Face-on only, so inclination does not elongate the core.
        func coreAxisRatio(barred: Bool) -> Float {
            Self.mean(
                Self.seeds().map { seed in
                    var scene = Scene(size: Self.size, seed: seed)
                    scene.drawDisk(
                        x: scene.centreX, y: scene.centreY, radius90: scene.radius90, stage: 1,
                        barred: barred,
                        axisRatio: 1, brightness: 1)
                    return LinearMeasures(scene, within: 0.06).axisRatio
                })
        }
        let barred = coreAxisRatio(barred: true)
        let plain = coreAxisRatio(barred: false)
        #expect(barred < plain - 0.05, "inner axis ratio: barred \(barred), unbarred \(plain)")
    }

    /// Neighbouring spiral stages overlap (as in real data): no single global statistic separates
    /// Sb from Sc, or SBb from SBc, with a threshold.
    @Test(arguments: [("Sb", "Sc"), ("SBb", "SBc"), ("Sa", "Sb")])
    func neighbouringStagesOverlap(_ pair: (String, String)) throws {
        let a = try Self.display(pair.0)
        let b = try Self.display(pair.1)
        let statistics: [(String, (ImageMeasures) -> Float)] = [
            ("concentration", \.concentration), ("colour", \.centralColour),
            ("brightness", \.centralBrightness), ("axis ratio", \.axisRatio),
        ]
        for (name, statistic) in statistics {
            let accuracy = bestThresholdAccuracy(a.map(statistic), b.map(statistic))
            #expect(accuracy < 0.92, "\(pair.0) vs \(pair.1) separable by \(name): \(accuracy)")
        }
    }

    /// The best accuracy of `x < t` (or `x > t`) for telling the two samples apart.
    func bestThresholdAccuracy(_ a: [Float], _ b: [Float]) -> Float {
        let all = (a.map { ($0, 0) } + b.map { ($0, 1) }).sorted { $0.0 < $1.0 }
        var best = 0
        var belowA = 0
        var belowB = 0
        for (_, cls) in all {
            if cls == 0 { belowA += 1 } else { belowB += 1 }
            let rule1 = belowA + (b.count - belowB)
            let rule2 = belowB + (a.count - belowA)
            best = max(best, rule1, rule2)
        }
        return Float(best) / Float(a.count + b.count)
    }
}

/// Measures on the linear light of a scene (before seeing, noise and stretch).
struct LinearMeasures {
    let concentration: Float
    let axisRatio: Float

    init(_ scene: Scene, within fraction: Float = 0.45) {
        let c = scene.canvas
        let limit = fraction * Float(c.width)
        var samples: [(r: Float, dx: Float, dy: Float, v: Float)] = []
        for y in 0..<c.height {
            for x in 0..<c.width {
                let dx = Float(x) + 0.5 - scene.centreX
                let dy = Float(y) + 0.5 - scene.centreY
                let r = (dx * dx + dy * dy).squareRoot()
                let i = y * c.width + x
                let v = c.red[i] + c.green[i] + c.blue[i]
                if r <= limit && v > 0 { samples.append((r, dx, dy, v)) }
            }
        }
        samples.sort { $0.r < $1.r }
        let total = samples.reduce(0) { $0 + $1.v }
        var cumulative: Float = 0
        var r50: Float = 0
        var r90: Float = 0
        for s in samples {
            cumulative += s.v
            if r50 == 0 && cumulative >= 0.5 * total { r50 = s.r }
            if r90 == 0 && cumulative >= 0.9 * total { r90 = s.r }
        }
        concentration = r90 / max(r50, 0.5)
        var sxx: Float = 0, syy: Float = 0, sxy: Float = 0
        for s in samples {
            sxx += s.v * s.dx * s.dx
            syy += s.v * s.dy * s.dy
            sxy += s.v * s.dx * s.dy
        }
        let mean = (sxx + syy) / 2
        let spread = (((sxx - syy) / 2) * ((sxx - syy) / 2) + sxy * sxy).squareRoot()
        axisRatio = ((mean - spread) / max(mean + spread, 1e-12)).squareRoot()
    }
}
