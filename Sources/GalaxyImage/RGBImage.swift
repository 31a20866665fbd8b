/// An 8-bit image, 3 bytes a pixel (R, G, B), rows top to bottom without padding.
public struct RGBImage: Sendable, Hashable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(
            width >= 0 && height >= 0 && pixels.count == width * height * 3,
            "RGBImage expects width * height * 3 bytes")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// What a JPEG's headers say about it.
public struct JPEGInfo: Sendable, Hashable {
    public enum ColorModel: String, Sendable, Hashable { case grayscale, color, cmyk }
    public var width: Int
    public var height: Int
    public var components: Int
    public var colorModel: ColorModel
    public var bitsPerSample: Int
    public var progressive: Bool
    public var arithmeticCoding: Bool
}
