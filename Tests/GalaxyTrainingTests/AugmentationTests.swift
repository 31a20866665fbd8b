import Foundation
import GalaxyImage
import Testing

@testable import GalaxyTraining

/// Training-time augmentation: the plain path is the scorer's preprocessing, the random path is
/// reproducible from the seed alone, and every step does what its setting says.
@Suite struct AugmentationTests {
    /// A 424x424 galaxy-like JPEG (4:2:0, as Galaxy Zoo cutouts): a tilted disc with arms on a
    /// sky that is never black; `peak` bounds the brightest values.
    static func galaxyJPEG(side: Int = 424, peak: Double = 200, seed: UInt64 = 1) -> [UInt8] {
        var random = SeededGenerator(seed: seed)
        var rgb = [UInt8](repeating: 0, count: side * side * 3)
        let c = Double(side) / 2 + 7, scale = Double(side)
        for y in 0..<side {
            for x in 0..<side {
                let dx = (Double(x) - c) / scale, dy = (Double(y) - c + 11) / scale
                let u = dx * 0.8 + dy * 0.6, v = -dx * 0.6 + dy * 0.8
                let r = (u * u + 4 * v * v).squareRoot()
                let arms = 0.5 + 0.5 * sin(2 * atan2(v, u) + 18 * r)
                let value = 30 + (peak - 40) * (0.7 * exp(-r * 9) + 0.3 * arms * exp(-r * 4))
                    + (random.nextUnit() - 0.5) * 10
                let i = (y * side + x) * 3
                rgb[i] = UInt8(max(0, min(255, value)))
                rgb[i + 1] = UInt8(max(0, min(255, value * 0.9)))
                rgb[i + 2] = UInt8(max(0, min(255, value * 0.8 + 10)))
            }
        }
        return try! JPEGEncoder.encode(rgb: rgb, width: side, height: side, quality: 90)
    }

    static let jpeg = galaxyJPEG()
    static let normalized = PreprocessOptions(mean: [0.2, 0.18, 0.17], std: [0.1, 0.09, 0.08])

    static func render(_ settings: AugmentationSettings, seed: UInt64, options: PreprocessOptions = PreprocessOptions(), jpeg: [UInt8] = jpeg) throws -> [Float] {
        let augmenter = Augmenter(settings: settings, options: options)
        return augmenter.render(try augmenter.frame(jpeg: jpeg), seed: seed)
    }

    static func seed(where condition: (AugmentationDraw) -> Bool, _ settings: AugmentationSettings) -> UInt64 {
        (0..<1000).first { condition(AugmentationDraw(settings: settings, seed: UInt64($0))) }.map(UInt64.init)!
    }

    // MARK: - Geometry

    @Test(arguments: [DecodeScale.full, .half, .quarter, .eighth])
    func noneEqualsThePreprocessorBitForBit(_ scale: DecodeScale) throws {
        for var options in [PreprocessOptions(), Self.normalized] {
            options.decodeScale = scale
            for jpeg in [Self.jpeg, Self.galaxyJPEG(side: 301, seed: 2)] {
                let plain = try Preprocessor(options: options).preprocess(jpeg: jpeg)
                for seed: UInt64 in [0, 1, 99] {
                    #expect(try Self.render(.none, seed: seed, options: options, jpeg: jpeg) == plain)
                }
            }
        }
    }

    @Test func rotationOnlyMatchesThePreprocessorsRotation() throws {
        let settings = AugmentationSettings(rotation: true)
        let preprocessor = Preprocessor()
        for seed: UInt64 in 0..<8 {
            let draw = AugmentationDraw(settings: settings, seed: seed)
            let expected = try preprocessor.preprocess(jpeg: Self.jpeg, rotationDegrees: draw.angleDegrees)
            let output = try Self.render(settings, seed: seed)
            let worst = zip(output, expected).map { abs($0 - $1) }.max()!
            #expect(worst <= 1.0 / 255 + 1e-6, "angle \(draw.angleDegrees): max difference \(worst)")
        }
    }

    @Test(arguments: [DecodeScale.full, .quarter])
    func flipMirrorsTheWidthAxis(_ scale: DecodeScale) throws {
        let options = PreprocessOptions(decodeScale: scale)
        let settings = AugmentationSettings(flip: true)
        let flipped = Self.seed(where: { $0.flipped }, settings)
        let plain = try Preprocessor(options: options).preprocess(jpeg: Self.jpeg)
        let output = try Self.render(settings, seed: flipped, options: options)
        var mirrored = plain
        for row in 0..<(3 * 50) {
            for x in 0..<50 { mirrored[row * 50 + x] = plain[row * 50 + 49 - x] }
        }
        #expect(output == mirrored)
        #expect(try Self.render(settings, seed: Self.seed(where: { !$0.flipped }, settings), options: options) == plain)
    }

    @Test func zoomAndShiftMoveTheContent() throws {
        let zoomed = try Self.render(AugmentationSettings(scale: 0.5), seed: 3)
        let shifted = try Self.render(AugmentationSettings(shift: 0.2), seed: 3)
        let plain = try Preprocessor().preprocess(jpeg: Self.jpeg)
        #expect(zoomed != plain && shifted != plain)
        let draw = AugmentationDraw(settings: AugmentationSettings(shift: 0.2), seed: 3)
        // The bright core follows the shift: compare where the brightest output pixel of the red plane is.
        func peak(_ t: [Float]) -> (Int, Int) {
            let i = t[0..<2500].indices.max { t[$0] < t[$1] }!
            return (i % 50, i / 50)
        }
        let (px, py) = peak(plain), (sx, sy) = peak(shifted)
        #expect(abs(Double(sx - px) - draw.shiftX * 50) <= 1.5 && abs(Double(sy - py) - draw.shiftY * 50) <= 1.5)
    }

    // MARK: - Determinism

    @Test func sameSeedSameBytesOtherSeedsDiffer() throws {
        let a = try Self.render(.standard, seed: 42), b = try Self.render(.standard, seed: 42)
        #expect(a == b)
        #expect(try Self.render(.standard, seed: 43) != a)
    }

    @Test func orderAndThreadsDoNotChangeAnySample() throws {
        let seeds = TrainingLoop.epochPlan(seed: 7, epoch: 2, count: 24).sampleSeeds
        let frames = [Self.jpeg, Self.galaxyJPEG(side: 200, seed: 3)]
        let augmenter = Augmenter(settings: .standard, options: Self.normalized)
        let decoded = try frames.map { try augmenter.frame(jpeg: $0) }
        let forward = seeds.enumerated().map { augmenter.render(decoded[$0.offset % 2], seed: $0.element) }
        let reversedOrder = Augmenter(settings: .standard, options: Self.normalized)
        var backward = [[Float]](repeating: [], count: seeds.count)
        for i in seeds.indices.reversed() { backward[i] = reversedOrder.render(decoded[i % 2], seed: seeds[i]) }
        #expect(backward == forward)

        final class Results: @unchecked Sendable { var values = [[Float]](repeating: [], count: 24) }
        let results = Results()
        let workers = [Augmenter(settings: .standard, options: Self.normalized), Augmenter(settings: .standard, options: Self.normalized)]
        let shared = UncheckedBox(workers)
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for i in stride(from: worker, to: seeds.count, by: 2) {
                results.values[i] = shared.value[worker].render(decoded[i % 2], seed: seeds[i])
            }
        }
        #expect(results.values == forward)
        #expect(Set(seeds).count == seeds.count)
    }

    // MARK: - Photometric steps

    @Test func brightnessScalesTheValues() throws {
        let settings = AugmentationSettings(brightness: 0.3)
        let dim = Self.galaxyJPEG(peak: 150)
        let plain = try Preprocessor().preprocess(jpeg: dim)
        for seed: UInt64 in 0..<5 {
            let gain = Float(AugmentationDraw(settings: settings, seed: seed).brightness)
            let output = try Self.render(settings, seed: seed, jpeg: dim)
            let mean: Float = output.reduce(0, +) / 7500, plainMean: Float = plain.reduce(0, +) / 7500
            #expect(abs(mean - gain * plainMean) < 1e-5)
            #expect(zip(output, plain).allSatisfy { abs($0 - min(1, $1 * gain)) < 1e-6 })
        }
    }

    @Test func colourGainsArePerChannel() throws {
        let settings = AugmentationSettings(colour: 0.08)
        let plain = try Preprocessor().preprocess(jpeg: Self.jpeg)
        let draw = AugmentationDraw(settings: settings, seed: 9)
        let output = try Self.render(settings, seed: 9)
        for c in 0..<3 {
            let channel = (c * 2500)..<((c + 1) * 2500)
            let sum: Float = output[channel].reduce(0, +), plainSum: Float = plain[channel].reduce(0, +)
            #expect(abs(Double(sum / plainSum) - draw.colour[c]) < 1e-4)
        }
    }

    @Test func noiseHasTheDrawnStandardDeviation() throws {
        let settings = AugmentationSettings(noise: 0.03)
        let plain = try Preprocessor().preprocess(jpeg: Self.jpeg)
        for seed: UInt64 in 0..<4 {
            let sigma = AugmentationDraw(settings: settings, seed: seed).noiseSigma
            let difference = zip(try Self.render(settings, seed: seed), plain).map { Double($0 - $1) }
            let mean = difference.reduce(0, +) / 7500
            let std = (difference.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 7500).squareRoot()
            #expect(abs(mean) < 0.1 * sigma + 1e-4)
            #expect(abs(std - sigma) < 0.06 * sigma + 1e-5, "sigma \(sigma), measured \(std)")
        }
    }

    @Test func blurIsAGaussianOfTheDrawnSigmaWithReplicatedEdges() throws {
        let settings = AugmentationSettings(blur: 1.5, blurProbability: 1)
        let plain = try Preprocessor().preprocess(jpeg: Self.jpeg)
        let seed = Self.seed(where: { $0.blurSigma > 1 }, settings)
        let sigma = AugmentationDraw(settings: settings, seed: seed).blurSigma
        let output = try Self.render(settings, seed: seed)
        // Reference: the 2-D Gaussian (radius ceil(3 sigma)) in double precision, edges clamped.
        let radius = Int((3 * sigma).rounded(.up))
        let weights = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = weights.reduce(0, +)
        var worst = 0.0
        for c in 0..<3 {
            for y in 0..<50 {
                for x in 0..<50 {
                    var sum = 0.0
                    for (j, wy) in weights.enumerated() {
                        for (i, wx) in weights.enumerated() {
                            let sy = min(max(y + j - radius, 0), 49), sx = min(max(x + i - radius, 0), 49)
                            sum += wy * wx * Double(plain[c * 2500 + sy * 50 + sx])
                        }
                    }
                    worst = max(worst, abs(sum / (total * total) - Double(output[c * 2500 + y * 50 + x])))
                }
            }
        }
        #expect(worst < 1e-5, "sigma \(sigma): max difference \(worst)")
    }

    @Test func jpegRecompressionChangesLittle() throws {
        let settings = AugmentationSettings(jpegQuality: 20, jpegProbability: 1)
        let plain = try Preprocessor().preprocess(jpeg: Self.jpeg)
        let output = try Self.render(settings, seed: 1)
        #expect(output != plain)
        #expect(zip(output, plain).map { abs($0 - $1) }.reduce(0, +) / 7500 < 0.02)
    }

    @Test func valuesStayFiniteAndInTheUnitRange() throws {
        let augmenter = Augmenter(settings: .standard, options: PreprocessOptions(decodeScale: .quarter))
        let frame = try augmenter.frame(jpeg: Self.jpeg)
        for seed: UInt64 in 0..<200 {
            let output = augmenter.render(frame, seed: seed)
            #expect(output.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "seed \(seed)")
        }
        let normalized = try Self.render(.standard, seed: 1, options: Self.normalized)
        #expect(normalized.allSatisfy(\.isFinite) && normalized.contains { $0 < 0 })
    }

    // MARK: - Draws

    @Test func drawsStayInsideTheSettings() {
        let s = AugmentationSettings.standard
        var flips = 0, blurs = 0, jpegs = 0
        let n = 4000
        for seed in 0..<UInt64(n) {
            let d = AugmentationDraw(settings: s, seed: seed)
            #expect(d.angleDegrees >= 0 && d.angleDegrees < 360)
            #expect(d.scale >= 1 / 1.1 - 1e-12 && d.scale <= 1.1 + 1e-12)
            #expect(abs(d.shiftX) <= 0.04 && abs(d.shiftY) <= 0.04)
            #expect(d.brightness >= 0.85 && d.brightness <= 1.15)
            #expect((0..<3).allSatisfy { d.colour[$0] >= 0.92 && d.colour[$0] <= 1.08 })
            #expect(d.noiseSigma >= 0 && d.noiseSigma <= 0.02)
            #expect(d.blurSigma >= 0 && d.blurSigma <= 0.8)
            if let q = d.jpegQuality { #expect((40...95).contains(q)); jpegs += 1 }
            if d.flipped { flips += 1 }
            if d.blurSigma > 0 { blurs += 1 }
        }
        #expect(abs(Double(flips) / Double(n) - 0.5) < 0.04)
        #expect(abs(Double(blurs) / Double(n) - 0.3) < 0.04)
        #expect(abs(Double(jpegs) / Double(n) - 0.25) < 0.04)
        let none = AugmentationDraw(settings: .none, seed: 5)
        #expect(none.transform(cropWidth: 204, cropHeight: 204).isIdentity && !none.changesValues && none.jpegQuality == nil)
        // Each setting draws from its own uniforms: turning others off changes nothing.
        #expect(AugmentationDraw(settings: AugmentationSettings(rotation: true), seed: 5).angleDegrees == AugmentationDraw(settings: s, seed: 5).angleDegrees)
    }

    // MARK: - Spec strings

    @Test func specRoundTrips() throws {
        let custom = AugmentationSettings(
            flip: true, scale: 0.25, noise: 0.005, blur: 1.2, blurProbability: 0.5, jpegQuality: 60,
            jpegProbability: 0.1)
        for settings in [AugmentationSettings.none, .standard, custom, AugmentationSettings(rotation: true)] {
            #expect(try AugmentationSettings(spec: settings.description) == settings, "\(settings)")
        }
        #expect(AugmentationSettings.none.description == "none")
        #expect(AugmentationSettings.standard.description
            == "rotation,flip,shift=0.04,scale=0.1,brightness=0.15,colour=0.08,noise=0.02,blur=0.8,jpeg=40")
        #expect(custom.description == "flip,scale=0.25,noise=0.005,blur=1.2@0.5,jpeg=60@0.1")
        #expect(try AugmentationSettings(spec: "standard") == .standard)
        #expect(try AugmentationSettings(spec: " None ") == .none)
        #expect(try AugmentationSettings(spec: "flip, color=0.1") == AugmentationSettings(flip: true, colour: 0.1))
        let data = try JSONEncoder().encode(custom)
        #expect(try JSONDecoder().decode(AugmentationSettings.self, from: data) == custom)
    }

    @Test(arguments: [
        ("", AugmentationSpecError.Problem.empty),
        ("rotation,wobble=2", .unknownKey("wobble")),
        ("shift", .missingValue(key: "shift")),
        ("rotation=yes", .unexpectedValue(key: "rotation", value: "yes")),
        ("shift=abc", .badValue(key: "shift", value: "abc", expected: "a number")),
        ("shift=0.9", .badValue(key: "shift", value: "0.9", expected: "in 0.0...0.5")),
        ("jpeg=0", .badValue(key: "jpeg", value: "0", expected: "a whole minimum quality in 1...95")),
        ("blur=0.5@2", .badValue(key: "blur", value: "0.5@2", expected: "VALUE@PROBABILITY with a probability in 0...1")),
        ("flip,flip", .repeatedKey("flip")),
        ("none,flip", .keywordInList("none")),
    ])
    func badSpecsNameTheProblem(_ spec: String, _ problem: AugmentationSpecError.Problem) {
        #expect(throws: AugmentationSpecError(spec: spec, problem: problem)) { try AugmentationSettings(spec: spec) }
        let message = AugmentationSpecError(spec: spec, problem: problem).description
        #expect(message.contains("'\(spec)'") && message.contains("standard"))
    }

    @Test func badBytesAreImageErrors() {
        #expect(throws: ImageError.self) { try AugmentationFrame(jpeg: [], options: PreprocessOptions()) }
        do {
            _ = try AugmentationFrame(jpeg: [1, 2, 3, 4], options: PreprocessOptions())
            Issue.record("decoded garbage")
        } catch {
            #expect(error.code == .notJPEG)
        }
        #expect(throws: ImageError.self) { try AugmentationFrame(jpeg: Array(Self.jpeg.prefix(500)), options: PreprocessOptions()) }
    }
}

/// Hands non-Sendable per-thread objects to a concurrent test body.
private struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
