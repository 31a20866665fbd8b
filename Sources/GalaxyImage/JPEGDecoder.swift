import CTurboJPEG

/// Full-frame decoding to 8-bit RGB with the TurboJPEG API, for tools, the web API and tests.
/// Not thread-safe: one per thread (TurboJPEG handles must not be shared).
public final class JPEGDecoder {
    private let handle: tjhandle
    private let headerReader = RegionDecoder()

    public init() {
        guard let handle = tjInitDecompress() else {
            fatalError("TurboJPEG could not create a decompressor (out of memory)")
        }
        self.handle = handle
    }

    deinit { tjDestroy(handle) }

    /// Decodes `jpeg` to RGB. Grayscale is replicated to three channels; CMYK and YCCK are
    /// converted (`r = c * k / 255` on the stored inverted values, as libjpeg-turbo does).
    /// - Throws: `ImageError` for empty, non-JPEG, truncated, unsupported or oversized input.
    public func decodeRGB(jpeg: [UInt8], maxPixels: Int = 50_000_000) throws(ImageError) -> RGBImage {
        guard !jpeg.isEmpty else { throw ImageError(.empty, "the JPEG has 0 bytes") }
        do {
            return try jpeg.withUnsafeBufferPointer { (bytes) throws(ImageError) -> RGBImage in
                try decode(bytes, maxPixels: maxPixels)
            }
        }
    }

    /// The headers of `jpeg`, without decoding it.
    public func info(jpeg: [UInt8]) throws(ImageError) -> JPEGInfo {
        try jpeg.withImageBytes { (bytes) throws(ImageError) -> JPEGInfo in
            defer { headerReader.abort() }
            return try headerReader.readHeader(bytes)
        }
    }

    private func decode(_ jpeg: UnsafeBufferPointer<UInt8>, maxPixels: Int) throws(ImageError) -> RGBImage {
        // libjpeg reads the header: the same classification of errors as the preprocessing,
        // and the size is checked before TurboJPEG allocates anything.
        try JPEGValidation.checkMarkers(UnsafeRawBufferPointer(jpeg))
        let info = try headerReader.readHeader(UnsafeRawBufferPointer(jpeg))
        headerReader.abort()
        try JPEGValidation.checkPixels(info, maxPixels: maxPixels)
        let pixelCount = info.width * info.height
        let width = Int32(info.width), height = Int32(info.height)
        let cmyk = info.colorModel == .cmyk
        let channels = cmyk ? 4 : 3
        let format = cmyk ? TJPF_CMYK : TJPF_RGB
        var pixels = [UInt8](repeating: 0, count: pixelCount * channels)
        let status = pixels.withUnsafeMutableBufferPointer { out in
            tjDecompress2(
                handle, jpeg.baseAddress, UInt(jpeg.count), out.baseAddress, width, 0, height,
                Int32(format.rawValue), TJFLAG_LIMITSCANS)
        }
        if status != 0 {
            let text = lastError
            // Warnings (damaged but decodable data) still yield an image; running out of data
            // does not: the missing part would be grey.
            if tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue) || text.contains("Premature end") {
                throw ImageError.fromLibraryMessage(text, context: "decode JPEG")
            }
        }
        if cmyk { pixels = CMYK.toRGB(pixels, pixelCount: pixelCount) }
        return RGBImage(width: Int(width), height: Int(height), pixels: pixels)
    }

    private var lastError: String { String(cString: tjGetErrorStr2(handle)) }

    /// Decodes with a temporary decoder; prefer one `JPEGDecoder` per thread in loops.
    public static func decodeRGB(jpeg: [UInt8], maxPixels: Int = 50_000_000) throws(ImageError) -> RGBImage {
        try JPEGDecoder().decodeRGB(jpeg: jpeg, maxPixels: maxPixels)
    }
}

/// CMYK as libjpeg stores it (Adobe's inverted values) to and from RGB.
enum CMYK {
    /// `r = c * k / 255`, rounded, like libjpeg-turbo's cmyk_to_rgb.
    @inline(__always)
    static func channel(_ c: UInt8, _ k: UInt8) -> UInt8 {
        UInt8(truncatingIfNeeded: (Int(c) &* Int(k) &+ 127) / 255)
    }

    static func toRGB(_ cmyk: [UInt8], pixelCount: Int) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: pixelCount * 3)
        for i in 0..<pixelCount {
            let k = cmyk[i * 4 + 3]
            rgb[i * 3] = channel(cmyk[i * 4], k)
            rgb[i * 3 + 1] = channel(cmyk[i * 4 + 1], k)
            rgb[i * 3 + 2] = channel(cmyk[i * 4 + 2], k)
        }
        return rgb
    }

    /// Converts `pixelCount` 4-byte pixels at `source` to 3-byte pixels at `target`; they may
    /// overlap when `target <= source` (writes never overtake reads).
    static func toRGBInPlace(
        from source: UnsafeMutablePointer<UInt8>, to target: UnsafeMutablePointer<UInt8>, pixelCount: Int
    ) {
        for i in 0..<pixelCount {
            let c = source[i &* 4], m = source[i &* 4 &+ 1], y = source[i &* 4 &+ 2], k = source[i &* 4 &+ 3]
            target[i &* 3] = channel(c, k)
            target[i &* 3 &+ 1] = channel(m, k)
            target[i &* 3 &+ 2] = channel(y, k)
        }
    }

    /// Inverted CMYK whose conversion gives back `rgb` (up to rounding): k = max(r, g, b).
    static func fromRGB(_ rgb: [UInt8]) -> [UInt8] {
        let count = rgb.count / 3
        var out = [UInt8](repeating: 0, count: count * 4)
        for i in 0..<count {
            let r = Int(rgb[i * 3]), g = Int(rgb[i * 3 + 1]), b = Int(rgb[i * 3 + 2])
            let k = max(r, g, b, 1)
            out[i * 4] = UInt8(min(255, (r * 255 + k / 2) / k))
            out[i * 4 + 1] = UInt8(min(255, (g * 255 + k / 2) / k))
            out[i * 4 + 2] = UInt8(min(255, (b * 255 + k / 2) / k))
            out[i * 4 + 3] = UInt8(k)
        }
        return out
    }
}
