import GalaxyCore
import GalaxyImage
import Testing

@testable import GalaxySynth

@Suite struct RendererTests {
    let small = SyntheticGalaxyRenderer(size: 128)

    @Test func sameSeedGivesSamePixels() throws {
        for label in GalaxyLabels.standard {
            let a = try small.render(label: label, seed: 42)
            let b = try small.render(label: label, seed: 42)
            #expect(a == b, "label \(label)")
        }
    }

    @Test func differentSeedsGiveDifferentPixels() throws {
        for label in GalaxyLabels.standard {
            let a = try small.render(label: label, seed: 1)
            let b = try small.render(label: label, seed: 2)
            let differing = zip(a.pixels, b.pixels).filter { $0 != $1 }.count
            #expect(differing > a.pixels.count / 10, "label \(label): only \(differing) bytes differ")
        }
    }

    @Test func rendersTheRequestedFrame() throws {
        let image = try SyntheticGalaxyRenderer().render(label: "Sb", seed: 7)
        #expect(image.width == 424 && image.height == 424 && image.pixels.count == 424 * 424 * 3)
    }

    @Test func unknownLabelIsRejectedWithTheValidLabels() {
        #expect {
            _ = try small.render(label: "S0", seed: 1)
        } throws: { error in
            let e = error as? SynthError
            return e?.code == .unknownLabel && e!.description.contains("SBd")
        }
    }

    @Test func generatorStreamsAreIndependentOfOrder() {
        var a = SynthRandom(seed: 9, index: 5)
        var b = SynthRandom(seed: 9, index: 5)
        var c = SynthRandom(seed: 9, index: 6)
        let x = (0..<4).map { _ in a.next() }
        #expect(x == (0..<4).map { _ in b.next() })
        #expect(x != (0..<4).map { _ in c.next() })
    }

    @Test func noiseTableIsStandardNormal() {
        let v = GaussianTable.values.map(Double.init)
        let mean = v.reduce(0, +) / Double(v.count)
        let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)
        #expect(abs(mean) < 1e-6)
        #expect(abs(variance - 1) < 0.01)
    }

    @Test func stretchTableMatchesTheFormula() {
        let table = StretchTable(softening: 9)
        for intensity: Float in [0.0001, 0.01, 0.1, 0.5, 1, 3.9, 4.2, 20] {
            let exact = asinhf(9 * intensity) / asinhf(9) / intensity
            #expect(abs(table.factor(intensity) - exact) <= 1e-3 * exact, "I = \(intensity)")
        }
    }

    @Test func boxBlurMatchesTheGaussianVariance() {
        for sigma: Float in [2.5, 4, 7.3] {
            let widths = FloatCanvas.boxWidths(sigma: sigma)
            let variance = widths.map { Float($0 * $0 - 1) / 12 }.reduce(0, +)
            #expect(abs(variance.squareRoot() - sigma) < 0.35, "sigma \(sigma): widths \(widths)")
        }
    }

    @Test func blurKeepsTotalFlux() {
        for sigma: Float in [1.2, 4.5] {
            var canvas = FloatCanvas(width: 64, height: 64)
            canvas.red[32 * 64 + 32] = 100
            canvas.blue[30 * 64 + 31] = 50
            canvas.blur(sigma: sigma, box: canvas.fullBox)
            #expect(abs(canvas.red.reduce(0, +) - 100) < 0.01)
            #expect(abs(canvas.blue.reduce(0, +) - 50) < 0.01)
            #expect(canvas.red[32 * 64 + 32] < 100 / (sigma * sigma))
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
