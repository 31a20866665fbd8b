/// What random augmentation the trainer applies to every training sample, drawn anew for every
/// sample in every epoch (see `Augmenter`). Every setting is off unless given; `.standard` holds
/// the values chosen for Galaxy Zoo cutouts: galaxies have no preferred orientation or handedness,
/// are not perfectly centred or sized, and arrive with varied exposure, colour balance, noise,
/// seeing and JPEG compression.
///
/// `description` is the spec string (`AugmentationSettings(spec:)` parses it back), written into a
/// model's metadata as provenance.
public struct AugmentationSettings: Sendable, Hashable, Codable {
    /// Rotation by a uniform angle in [0, 360) degrees about the frame centre.
    public var rotation: Bool
    /// Left-right mirror with probability 1/2 (with `rotation` this covers every flip).
    public var flip: Bool
    /// Largest shift, as a fraction of the crop side, drawn uniformly in [-shift, shift] per axis.
    public var shift: Double
    /// Largest relative zoom: the factor is log-uniform in [1 / (1 + scale), 1 + scale].
    public var scale: Double
    /// Largest relative brightness change: one gain, uniform in [1 - brightness, 1 + brightness].
    public var brightness: Double
    /// Largest relative colour-balance change: a gain per channel, uniform in [1 - colour, 1 + colour].
    public var colour: Double
    /// Largest Gaussian noise sigma in [0,1] units, the sigma being uniform in [0, noise].
    public var noise: Double
    /// Largest Gaussian blur (point spread) sigma in output pixels, uniform in [0, blur]; 0 is off.
    public var blur: Double
    /// How often a sample is blurred, when `blur` is on.
    public var blurProbability: Double
    /// Lowest JPEG quality for re-compression, the quality being uniform in
    /// `jpegQuality...max(jpegQuality, AugmentationSettings.jpegHighestQuality)`; nil is off.
    public var jpegQuality: Int?
    /// How often a sample is re-compressed, when `jpegQuality` is on.
    public var jpegProbability: Double

    /// The best quality re-compression draws: above it artefacts are negligible.
    public static let jpegHighestQuality = 95
    public static let defaultBlurProbability = 0.3
    public static let defaultJPEGProbability = 0.25

    /// Every parameter defaults to off.
    public init(
        rotation: Bool = false, flip: Bool = false, shift: Double = 0, scale: Double = 0,
        brightness: Double = 0, colour: Double = 0, noise: Double = 0, blur: Double = 0,
        blurProbability: Double = AugmentationSettings.defaultBlurProbability, jpegQuality: Int? = nil,
        jpegProbability: Double = AugmentationSettings.defaultJPEGProbability
    ) {
        self.rotation = rotation
        self.flip = flip
        self.shift = shift
        self.scale = scale
        self.brightness = brightness
        self.colour = colour
        self.noise = noise
        self.blur = blur
        self.blurProbability = blurProbability
        self.jpegQuality = jpegQuality
        self.jpegProbability = jpegProbability
    }

    /// No augmentation: the sample equals the plain `Preprocessor` output bit for bit.
    public static let none = AugmentationSettings()

    /// The settings chosen for galaxy images: any rotation, flips, shift 4% of the crop, zoom
    /// +-10%, brightness +-15%, colour +-8% per channel, noise up to 0.02, blur up to 0.8 output
    /// pixels on 30% of samples, JPEG quality 40...95 on 25% of samples.
    public static let standard = AugmentationSettings(
        rotation: true, flip: true, shift: 0.04, scale: 0.1, brightness: 0.15, colour: 0.08,
        noise: 0.02, blur: 0.8, jpegQuality: 40)

    /// True when nothing is augmented.
    public var isNone: Bool {
        !rotation && !flip && shift == 0 && scale == 0 && brightness == 0 && colour == 0 && noise == 0
            && blur == 0 && jpegQuality == nil
    }

    /// Why these settings cannot be used, or nil when they can.
    public var problem: String? {
        for (key, value, range) in Self.ranges(self) where !(value.isFinite && range.contains(value)) {
            return "\(key) \(value) is outside \(range.lowerBound)...\(range.upperBound)"
        }
        if let quality = jpegQuality, !Self.jpegQualities.contains(quality) {
            return "jpeg quality \(quality) is outside \(Self.jpegQualities.lowerBound)...\(Self.jpegQualities.upperBound)"
        }
        return nil
    }

    static let jpegQualities = 1...jpegHighestQuality

    /// Every numeric setting with its allowed range, in spec order.
    static func ranges(_ s: AugmentationSettings) -> [(String, Double, ClosedRange<Double>)] {
        [
            ("shift", s.shift, 0...0.5), ("scale", s.scale, 0...1), ("brightness", s.brightness, 0...0.9),
            ("colour", s.colour, 0...0.9), ("noise", s.noise, 0...1), ("blur", s.blur, 0...10),
            ("blur probability", s.blurProbability, 0...1), ("jpeg probability", s.jpegProbability, 0...1),
        ]
    }
}
