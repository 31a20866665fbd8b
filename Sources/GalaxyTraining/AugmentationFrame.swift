import GalaxyImage

/// One training image decoded once, as the model decodes it (full frame, the model's DCT decode
/// scale, 8-bit RGB), kept so that every epoch can render a fresh augmentation of it without
/// decoding again. At decode scale 1/4 a 424x424 Galaxy Zoo image takes 106 x 106 x 3 = 33 KB;
/// at full scale 540 KB.
public struct AugmentationFrame: Sendable, Hashable {
    /// The decoded pixels, rows top to bottom, 3 bytes a pixel.
    public let image: RGBImage
    /// The DCT scale the frame was decoded at; `Augmenter` checks it matches its options.
    public let decodeScale: DecodeScale

    public var width: Int { image.width }
    public var height: Int { image.height }
    public var pixels: [UInt8] { image.pixels }

    /// Decodes `jpeg` with `preprocessor` (its decoder and decode scale; reuse one per thread).
    /// - Throws: `ImageError` for empty, non-JPEG, truncated, unsupported, oversized or damaged
    ///   input, or an image too small for the crop, as `Preprocessor.preprocess(jpeg:)` does.
    public init(jpeg: [UInt8], preprocessor: Preprocessor) throws(ImageError) {
        image = try preprocessor.decodedFrame(jpeg: jpeg)
        decodeScale = preprocessor.options.decodeScale
    }

    /// Decodes `jpeg` with a temporary preprocessor for `options`; prefer one `Preprocessor`
    /// per thread in loops.
    public init(jpeg: [UInt8], options: PreprocessOptions) throws(ImageError) {
        try self.init(jpeg: jpeg, preprocessor: Preprocessor(options: options))
    }

    /// A frame from pixels already decoded at `decodeScale`.
    public init(image: RGBImage, decodeScale: DecodeScale) {
        self.image = image
        self.decodeScale = decodeScale
    }
}
