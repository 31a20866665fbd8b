import CGalaxyJPEG
import CTurboJPEG

/// Encodes 8-bit RGB pixels as JPEG.
public enum JPEGEncoder {
    /// Chroma subsampling of an encoded JPEG.
    public enum Subsampling: String, Sendable, Hashable, CaseIterable {
        case s444 = "4:4:4", s422 = "4:2:2", s420 = "4:2:0", s440 = "4:4:0", s411 = "4:1:1"

        var factors: (h: Int32, v: Int32) {
            switch self {
            case .s444: return (1, 1)
            case .s422: return (2, 1)
            case .s420: return (2, 2)
            case .s440: return (1, 2)
            case .s411: return (4, 1)
            }
        }
    }

    /// The colour model stored in the file.
    public enum StoredColor: String, Sendable, Hashable {
        /// YCbCr, the usual.
        case color
        /// One luma channel (the pixels are converted to gray).
        case grayscale
        /// YCCK with an Adobe marker, from CMYK derived from the pixels (k = max(r, g, b)).
        case cmyk
    }

    /// The variants libjpeg can write; the default is a baseline 4:2:0 file at quality 90.
    public struct Options: Sendable, Hashable {
        public var quality: Int = 90
        public var subsampling: Subsampling = .s420
        public var storedColor: StoredColor = .color
        public var progressive = false
        public var arithmeticCoding = false
        public var optimizedHuffman = false
        /// Restart markers every this many MCUs; 0 for none.
        public var restartInterval = 0

        public init(
            quality: Int = 90, subsampling: Subsampling = .s420, storedColor: StoredColor = .color,
            progressive: Bool = false, arithmeticCoding: Bool = false,
            optimizedHuffman: Bool = false, restartInterval: Int = 0
        ) {
            self.quality = quality
            self.subsampling = subsampling
            self.storedColor = storedColor
            self.progressive = progressive
            self.arithmeticCoding = arithmeticCoding
            self.optimizedHuffman = optimizedHuffman
            self.restartInterval = restartInterval
        }
    }

    /// Encodes a baseline 4:2:0 JPEG with TurboJPEG.
    /// - Parameters:
    ///   - rgb: width * height * 3 bytes, rows top to bottom.
    ///   - quality: 1...100.
    /// - Throws: `ImageError` when the sizes do not match or the encoder fails.
    public static func encode(rgb: [UInt8], width: Int, height: Int, quality: Int) throws(ImageError)
        -> [UInt8]
    {
        try validate(rgb: rgb, width: width, height: height, quality: quality)
        guard let handle = tjInitCompress() else {
            throw ImageError(.tooLarge, "TurboJPEG could not create a compressor (out of memory)")
        }
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = rgb.withUnsafeBufferPointer { pixels in
            tjCompress2(
                handle, pixels.baseAddress, Int32(width), 0, Int32(height), Int32(TJPF_RGB.rawValue),
                &buffer, &size, Int32(TJSAMP_420.rawValue), Int32(quality), 0)
        }
        defer { if let buffer { tjFree(buffer) } }
        guard status == 0, let buffer else {
            throw ImageError.fromLibraryMessage(
                String(cString: tjGetErrorStr2(handle)), context: "encode JPEG \(width)x\(height)")
        }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }

    /// Encodes with libjpeg, in any of the variants of `options` (progressive, arithmetic
    /// coding, optimized Huffman tables, restart markers, subsampling, grayscale, CMYK).
    /// - Throws: `ImageError` when the sizes do not match or the encoder fails.
    public static func encode(rgb: [UInt8], width: Int, height: Int, options: Options) throws(ImageError)
        -> [UInt8]
    {
        try validate(rgb: rgb, width: width, height: height, quality: options.quality)
        let pixels = options.storedColor == .cmyk ? CMYK.fromRGB(rgb) : rgb
        let factors = options.subsampling.factors
        var cOptions = gj_encode_options(
            quality: Int32(options.quality), h_sampling: factors.h, v_sampling: factors.v,
            color: Int32(
                options.storedColor == .grayscale
                    ? GJ_COLOR_GRAY.rawValue
                    : options.storedColor == .cmyk ? GJ_COLOR_CMYK.rawValue : GJ_COLOR_RGB.rawValue),
            progressive: options.progressive ? 1 : 0, arithmetic: options.arithmeticCoding ? 1 : 0,
            optimize_huffman: options.optimizedHuffman ? 1 : 0,
            restart_interval: Int32(max(0, options.restartInterval)))
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = pixels.withUnsafeBufferPointer { input in
            message.withUnsafeMutableBufferPointer { text in
                gj_encode(
                    input.baseAddress, Int32(width), Int32(height), &cOptions, &buffer, &size,
                    text.baseAddress, text.count)
            }
        }
        defer { gj_free(buffer) }
        guard status == Int32(GJ_OK.rawValue), let buffer else {
            let text = String(
                decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImageError(.unsupported, "encode JPEG \(width)x\(height): \(text)")
        }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }

    private static func validate(rgb: [UInt8], width: Int, height: Int, quality: Int) throws(ImageError) {
        guard width > 0, height > 0, width <= 65_500, height <= 65_500 else {
            throw ImageError(.unsupported, "encode JPEG: size \(width)x\(height) is outside 1...65500")
        }
        guard rgb.count == width * height * 3 else {
            throw ImageError(
                .corrupt,
                "encode JPEG: \(rgb.count) bytes given, \(width)x\(height) RGB needs \(width * height * 3)")
        }
        guard (1...100).contains(quality) else {
            throw ImageError(.unsupported, "encode JPEG: quality \(quality) is outside 1...100")
        }
    }
}
