/// How JPEG bytes become the model's input tensor. The same values are stored in a model's
/// metadata, so training, scoring and the web API preprocess alike.
public struct PreprocessOptions: Sendable, Hashable {
    /// The fraction of the width cut from the left and from the right border, and of the height
    /// from the top and from the bottom: `round(f * W)` pixels each (halves round up).
    public var cropFraction: Double = 0.26
    /// The side of the square output, in pixels.
    public var size: Int = 50
    /// The DCT scaling to decode at; `.full` unless the model declares otherwise.
    public var decodeScale: DecodeScale = .full
    /// Per-channel r,g,b means; when set with `std`, the output is `(x - mean) / std` of [0,1] values.
    public var mean: [Float]? = nil
    /// Per-channel r,g,b standard deviations.
    public var std: [Float]? = nil
    /// Images with more pixels than this are refused from their header, before decoding.
    public var maxPixels: Int = 50_000_000

    public init(
        cropFraction: Double = 0.26, size: Int = 50, decodeScale: DecodeScale = .full,
        mean: [Float]? = nil, std: [Float]? = nil, maxPixels: Int = 50_000_000
    ) {
        self.cropFraction = cropFraction
        self.size = size
        self.decodeScale = decodeScale
        self.mean = mean
        self.std = std
        self.maxPixels = maxPixels
    }

    /// The number of floats one preprocessed image takes: 3 * size * size.
    public var floatCount: Int { 3 * size * size }

    /// The pixels cut from each side of a dimension of `length` pixels: `round(f * length)`.
    public func cropMargin(_ length: Int) -> Int {
        Int((cropFraction * Double(length)).rounded(.toNearestOrAwayFromZero))
    }

    /// Why these options cannot work, or nil when they can.
    public var problem: String? {
        if !(cropFraction >= 0 && cropFraction < 0.5) {
            return "crop fraction \(cropFraction) is outside [0, 0.5): use for example 0.26"
        }
        if size < 1 || size > 4096 { return "size \(size) is outside 1...4096" }
        if let mean, mean.count != 3 { return "mean has \(mean.count) values, expected 3 (r,g,b)" }
        if let std {
            if std.count != 3 { return "std has \(std.count) values, expected 3 (r,g,b)" }
            if std.contains(where: { !($0 > 0) }) { return "std values must be positive" }
        }
        if (mean == nil) != (std == nil) { return "mean and std must be given together" }
        if maxPixels < 1 { return "maxPixels must be positive" }
        return nil
    }
}
