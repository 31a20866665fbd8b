import CGalaxyJPEG

/// A rectangle of a decoded image, in pixels.
struct PixelRect: Hashable {
    var x: Int
    var y: Int
    var width: Int
    var height: Int

    /// The smallest rectangle holding both.
    func union(_ other: PixelRect) -> PixelRect {
        let x0 = min(x, other.x), y0 = min(y, other.y)
        let x1 = max(x + width, other.x + other.width), y1 = max(y + height, other.y + other.height)
        return PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// Grown by `margin` pixels on every side, clipped to a `width x height` image.
    func expanded(by margin: Int, width: Int, height: Int) -> PixelRect {
        let x0 = max(0, x - margin), y0 = max(0, y - margin)
        let x1 = min(width, x + self.width + margin), y1 = min(height, y + self.height + margin)
        return PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }
}

/// libjpeg-turbo's libjpeg API behind the small C layer: reads headers, then decodes only a
/// rectangle (cropped columns, skipped rows) at a DCT scale. One per thread.
final class RegionDecoder {
    private let handle: OpaquePointer

    init() {
        guard let handle = gj_decoder_create() else {
            fatalError("libjpeg could not create a decompressor (out of memory)")
        }
        self.handle = handle
    }

    deinit { gj_decoder_destroy(handle) }

    /// Parses the headers. `jpeg` must stay valid until `decode` or `abort` is called.
    func readHeader(_ jpeg: UnsafeRawBufferPointer) throws(ImageError) -> JPEGInfo {
        guard let base = jpeg.baseAddress, jpeg.count > 0 else {
            throw ImageError(.empty, "the JPEG has 0 bytes")
        }
        var header = gj_header()
        let status = gj_read_header(
            handle, base.assumingMemoryBound(to: UInt8.self), jpeg.count, &header)
        try check(status, "read JPEG header")
        if header.precision != 8 {
            gj_abort(handle)
            throw ImageError(.unsupported, "read JPEG header: \(header.precision)-bit samples")
        }
        return JPEGInfo(
            width: Int(header.width), height: Int(header.height),
            components: Int(header.components),
            colorModel: header.color == Int32(GJ_COLOR_GRAY.rawValue)
                ? .grayscale : header.color == Int32(GJ_COLOR_CMYK.rawValue) ? .cmyk : .color,
            bitsPerSample: Int(header.precision), progressive: header.progressive != 0,
            arithmeticCoding: header.arithmetic != 0)
    }

    /// Forgets the image whose header was read.
    func abort() { gj_abort(handle) }

    /// Extra pixels a decoded row may need: libjpeg widens the columns to whole iMCUs.
    static let rowSlack = 64

    /// Pixels decoded around a needed rectangle so that fancy chroma upsampling sees the same
    /// neighbours as in a full decode (it replicates the outermost chroma sample of whatever is
    /// decoded; one chroma sample is at most 4 pixels, for 4:1:1 at full scale).
    static let contextPixels = 8

    /// Decodes `rect` (in scaled coordinates) straight into `output`, rows `stride` bytes apart
    /// (`stride` must hold `rect.width + rowSlack` pixels). Returns how many pixels each row is
    /// shifted right: the rectangle's row r starts at `output + r * stride + shift * channels`,
    /// with 3 bytes a pixel, or 4 (inverted CMYK) when `info.colorModel == .cmyk`.
    func decode(
        scale: DecodeScale, rect: PixelRect, readToEnd: Bool,
        into output: UnsafeMutablePointer<UInt8>, stride: Int
    ) throws(ImageError) -> Int {
        var shift: Int32 = 0
        let status = gj_decode_region(
            handle, Int32(scale.denominator), Int32(rect.x), Int32(rect.y), Int32(rect.width),
            Int32(rect.height), readToEnd ? 1 : 0, output, stride, &shift)
        try check(status, "decode JPEG")
        return Int(shift)
    }

    private func check(_ status: Int32, _ action: String) throws(ImageError) {
        guard status != Int32(GJ_OK.rawValue) else { return }
        let text = String(cString: gj_decoder_message(handle))
        let code: ImageError.Code
        switch UInt32(status) {
        case GJ_NOT_JPEG.rawValue: code = .notJPEG
        case GJ_TRUNCATED.rawValue: code = .truncated
        case GJ_UNSUPPORTED.rawValue: code = .unsupported
        case GJ_TOO_LARGE.rawValue: code = .tooLarge
        default: code = .corrupt
        }
        throw ImageError(code, "\(action): \(text)")
    }
}
