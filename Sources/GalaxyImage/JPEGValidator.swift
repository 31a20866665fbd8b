/// What "a valid JPEG" means, in one place. Ingest and the web API refuse what it refuses before
/// storing anything, and every decoder here (so the scoring daemon too) applies the same checks
/// first, so one file gets one verdict and one `ImageError` code wherever it arrives:
///
/// - not empty, and starting with the JPEG marker `FF D8 FF`;
/// - an end-of-image marker `FF D9` somewhere after it (trailing bytes after it are allowed);
/// - headers libjpeg reads, with 8-bit samples;
/// - no more pixels than the limit.
///
/// `.decode` also decodes the image, which finds damaged entropy-coded data too: the web API uses
/// it for uploads, so a damaged file is refused at once instead of failing its job later.
/// Not thread-safe: one per thread (it owns decoder handles).
public final class JPEGValidator {
    /// How far to look.
    public enum Depth: Sendable, Hashable {
        /// Markers, headers and size: microseconds, for bulk ingest.
        case headers
        /// Also decode the whole image.
        case decode
    }

    private let reader = RegionDecoder()
    private var decoder: JPEGDecoder?

    public init() {}

    /// - Returns: the headers' facts.
    /// - Throws: `ImageError` with the code the daemon would fail the job with.
    @discardableResult
    public func validate(_ jpeg: [UInt8], maxPixels: Int = PreprocessOptions().maxPixels, depth: Depth = .headers)
        throws(ImageError) -> JPEGInfo
    {
        let info = try jpeg.withImageBytes { (bytes) throws(ImageError) -> JPEGInfo in
            try JPEGValidation.checkMarkers(bytes)
            defer { reader.abort() }
            let info = try reader.readHeader(bytes)
            try JPEGValidation.checkPixels(info, maxPixels: maxPixels)
            return info
        }
        if depth == .decode {
            if decoder == nil { decoder = JPEGDecoder() }
            _ = try decoder!.decodeRGB(jpeg: jpeg, maxPixels: maxPixels)
        }
        return info
    }
}

/// The checks of `JPEGValidator`, shared with the decoders.
enum JPEGValidation {
    /// The checks on the bytes alone.
    static func checkMarkers(_ jpeg: UnsafeRawBufferPointer) throws(ImageError) {
        guard jpeg.count > 0 else { throw ImageError(.empty, "the JPEG has 0 bytes") }
        guard jpeg.count >= 3, jpeg[0] == 0xFF, jpeg[1] == 0xD8, jpeg[2] == 0xFF else {
            let head = jpeg.prefix(4).map { hex($0) }.joined(separator: " ")
            throw ImageError(.notJPEG, "the bytes start with \(head), not with the JPEG marker ff d8 ff")
        }
        // Searched from the end: it is the last marker of nearly every file.
        var i = jpeg.count - 2
        while i >= 2 {
            if jpeg[i] == 0xFF && jpeg[i + 1] == 0xD9 { return }
            i -= 1
        }
        throw ImageError(.truncated, "the JPEG has no end-of-image marker (ff d9): the file is cut short")
    }

    /// The pixel limit, checked from the header before anything is allocated.
    static func checkPixels(_ info: JPEGInfo, maxPixels: Int) throws(ImageError) {
        let pixelCount = info.width * info.height
        guard pixelCount <= maxPixels else {
            throw ImageError(
                .tooLarge,
                "the JPEG is \(info.width)x\(info.height) = \(pixelCount) pixels, above the limit of \(maxPixels)")
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
