import Foundation
import GalaxyImage

/// Renders augmented training samples from decoded frames: the draw for the sample's seed
/// (`AugmentationDraw`), then
///
/// 1. JPEG re-compression (when drawn) of the frame, before any geometry: real compression
///    happened on the camera's pixel grid, so its blocks must be aligned with the frame's grid
///    and then rotated with the galaxy, not aligned with the output.
/// 2. An affine warp of the frame about its centre (mirror, rotation, zoom, shift; bilinear,
///    edge pixels replicated outside the frame), then exactly the `Preprocessor`'s crop, box
///    resize and scaling (`Preprocessor.preprocess(frame:transform:)`, the one implementation).
/// 3. In the [0,1] domain: Gaussian blur, brightness and colour gains, Gaussian noise, clamp to
///    [0,1], then mean/std. Blur runs on the 50x50 output rather than the frame: the box resize
///    and a Gaussian are both linear filters that commute (up to sampling), and the output is
///    about 17 times smaller than a full-scale crop, so a point spread measured in output pixels
///    costs microseconds.
///
/// With `AugmentationSettings.none` the output equals `Preprocessor.preprocess(jpeg:)` bit for bit.
/// All randomness comes from the seed, so a sample's tensor is the same whatever the thread
/// count or the order samples are rendered in.
///
/// Not thread-safe: one per worker thread (it owns a `Preprocessor` and scratch buffers).
public final class Augmenter {
    public let settings: AugmentationSettings
    public let options: PreprocessOptions
    private let preprocessor: Preprocessor
    /// Decodes re-compressed frames, which are already at the model's decode scale.
    private lazy var recompressionDecoder = Preprocessor(
        options: PreprocessOptions(
            cropFraction: options.cropFraction, size: options.size, decodeScale: .full,
            maxPixels: options.maxPixels))
    /// Scratch for the blur: one plane, and the kernel's half (centre first).
    let plane: UnsafeMutablePointer<Float>
    let kernel: UnsafeMutablePointer<Float>
    let kernelCapacity: Int

    /// The `SeededGenerator.derived` stream of a sample's seed that the noise field comes from
    /// (five 12-bit indices per draw, low bits first, into `GaussianTable`).
    public static let noiseStream: UInt64 = 0x6E6F_6973_65

    /// - Parameters:
    ///   - settings: must be valid (`settings.problem == nil`).
    ///   - options: the model's preprocessing; must be valid, as for `Preprocessor`.
    public init(settings: AugmentationSettings, options: PreprocessOptions) {
        if let problem = settings.problem { preconditionFailure("AugmentationSettings: \(problem)") }
        self.settings = settings
        self.options = options
        preprocessor = Preprocessor(options: options)
        plane = .allocate(capacity: options.size * options.size)
        kernelCapacity = Self.blurRadius(sigma: settings.blur, size: options.size) + 1
        kernel = .allocate(capacity: kernelCapacity)
    }

    deinit {
        plane.deallocate()
        kernel.deallocate()
    }

    /// Decodes a training image for `render`, with this augmenter's decoder and decode scale.
    /// - Throws: `ImageError`, as `AugmentationFrame(jpeg:preprocessor:)`.
    public func frame(jpeg: [UInt8]) throws(ImageError) -> AugmentationFrame {
        try AugmentationFrame(jpeg: jpeg, preprocessor: preprocessor)
    }

    /// Writes the augmented `3 * size * size` CHW tensor of `frame` for `seed` into `output`.
    /// - Parameter frame: decoded at `options.decodeScale`.
    public func render(_ frame: AugmentationFrame, seed: UInt64, into output: UnsafeMutablePointer<Float>) {
        precondition(
            frame.decodeScale == options.decodeScale,
            "the frame was decoded at \(frame.decodeScale.metadataValue), the model decodes at \(options.decodeScale.metadataValue)"
        )
        let draw = AugmentationDraw(settings: settings, seed: seed)
        let image = draw.jpegQuality.flatMap { recompressed(frame.image, quality: $0) } ?? frame.image
        let margins = (options.cropMargin(image.width), options.cropMargin(image.height))
        let transform = draw.transform(
            cropWidth: image.width - 2 * margins.0, cropHeight: image.height - 2 * margins.1)
        let tensor = UnsafeMutableBufferPointer(start: output, count: options.floatCount)
        guard draw.changesValues else {
            preprocessor.preprocess(frame: image, transform: transform, into: tensor)
            return
        }
        preprocessor.preprocess(frame: image, transform: transform, normalized: false, into: tensor)
        if draw.blurSigma > 0 { blur(output, sigma: draw.blurSigma) }
        applyGains(output, draw)
        if draw.noiseSigma > 0 { addNoise(output, sigma: Float(draw.noiseSigma), seed: seed) }
        for i in 0..<options.floatCount { output[i] = min(max(output[i], 0), 1) }
        preprocessor.normalize(tensor)
    }

    /// `render(_:seed:into:)` into a new array.
    public func render(_ frame: AugmentationFrame, seed: UInt64) -> [Float] {
        [Float](unsafeUninitializedCapacity: options.floatCount) { buffer, count in
            render(frame, seed: seed, into: buffer.baseAddress!)
            count = options.floatCount
        }
    }

    /// The frame encoded at `quality` and decoded again; nil (use the original) in the
    /// impossible case that libjpeg refuses its own output.
    private func recompressed(_ image: RGBImage, quality: Int) -> RGBImage? {
        guard
            let jpeg = try? JPEGEncoder.encode(
                rgb: image.pixels, width: image.width, height: image.height, quality: quality)
        else { return nil }
        return try? recompressionDecoder.decodedFrame(jpeg: jpeg)
    }
}
