import Foundation
import GalaxyImage

/// The random parameters of one augmented sample: a pure function of the settings and the
/// sample's seed, so a test or the PyTorch reference can replay exactly what `Augmenter` did.
///
/// The draw takes 14 uniforms `u0...u13` (`SeededGenerator(seed:).nextUnit()`, in this order,
/// always all of them, so turning one setting on or off never changes the others):
/// angle `360 u0`; flip `u1 < 0.5`; zoom `exp((2 u2 - 1) ln(1 + scale))`; shift
/// `shift (2 u3 - 1)`, `shift (2 u4 - 1)`; brightness `1 + brightness (2 u5 - 1)`; colour
/// `1 + colour (2 u - 1)` for r, g, b from u6, u7, u8; noise sigma `noise u9`; blur when
/// `u10 < blurProbability`, sigma `blur u11`; JPEG when `u12 < jpegProbability`, quality
/// `min + floor(u13 (max - min + 1))`. The noise field comes from its own stream
/// (`Augmenter.noiseStream`).
public struct AugmentationDraw: Sendable, Hashable, Codable {
    /// Counterclockwise rotation on screen, in [0, 360) degrees.
    public var angleDegrees: Double
    /// Mirrored left-right (before the rotation).
    public var flipped: Bool
    /// Zoom factor; above 1 magnifies.
    public var scale: Double
    /// Content shift right, as a fraction of the crop width.
    public var shiftX: Double
    /// Content shift down, as a fraction of the crop height.
    public var shiftY: Double
    /// Gain on all channels.
    public var brightness: Double
    /// Gain per channel (r, g, b), on top of `brightness`.
    public var colour: SIMD3<Double>
    /// Standard deviation of the added Gaussian noise, in [0,1] units; 0 adds none.
    public var noiseSigma: Double
    /// Gaussian blur sigma in output pixels; 0 blurs nothing.
    public var blurSigma: Double
    /// JPEG re-compression quality, nil when the sample is not re-compressed.
    public var jpegQuality: Int?

    /// The parameters `Augmenter.render` uses for `seed`.
    public init(settings: AugmentationSettings, seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let angle = random.nextUnit(), flip = random.nextUnit(), zoom = random.nextUnit()
        let dx = random.nextUnit(), dy = random.nextUnit(), gain = random.nextUnit()
        let red = random.nextUnit(), green = random.nextUnit(), blue = random.nextUnit()
        let noise = random.nextUnit(), blurGate = random.nextUnit(), blur = random.nextUnit()
        let jpegGate = random.nextUnit(), quality = random.nextUnit()
        func symmetric(_ unit: Double, _ amount: Double) -> Double { amount == 0 ? 0 : amount * (2 * unit - 1) }

        angleDegrees = settings.rotation ? 360 * angle : 0
        flipped = settings.flip && flip < 0.5
        scale = settings.scale == 0 ? 1 : exp(symmetric(zoom, log1p(settings.scale)))
        shiftX = symmetric(dx, settings.shift)
        shiftY = symmetric(dy, settings.shift)
        brightness = 1 + symmetric(gain, settings.brightness)
        colour = SIMD3(
            1 + symmetric(red, settings.colour), 1 + symmetric(green, settings.colour),
            1 + symmetric(blue, settings.colour))
        noiseSigma = settings.noise * noise
        blurSigma = settings.blur > 0 && blurGate < settings.blurProbability ? settings.blur * blur : 0
        if let lowest = settings.jpegQuality, jpegGate < settings.jpegProbability {
            let highest = max(lowest, AugmentationSettings.jpegHighestQuality)
            jpegQuality = min(highest, lowest + Int(quality * Double(highest - lowest + 1)))
        } else {
            jpegQuality = nil
        }
    }

    /// True when a step after the resize (blur, gains, noise) changes the values.
    public var changesValues: Bool {
        blurSigma > 0 || brightness != 1 || colour != SIMD3(1, 1, 1) || noiseSigma > 0
    }

    /// The geometric part for a crop of `cropWidth x cropHeight` frame pixels.
    public func transform(cropWidth: Int, cropHeight: Int) -> FrameTransform {
        FrameTransform(
            rotationDegrees: angleDegrees, scale: scale, mirrored: flipped,
            shiftX: shiftX * Double(cropWidth), shiftY: shiftY * Double(cropHeight))
    }
}
