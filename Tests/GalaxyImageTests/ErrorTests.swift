import Testing

@testable import GalaxyImage

/// Everything that is not a decodable 8-bit JPEG fails with a typed error, from both decoders.
@Suite struct ErrorTests {
    static let jpeg = try! JPEGEncoder.encode(
        rgb: Fixtures.galaxy(width: 64, height: 64), width: 64, height: 64, quality: 90)

    /// Both decoders and the validator (what ingest and the web API check) must fail with `code`.
    func expectFailure(_ bytes: [UInt8], _ code: ImageError.Code, maxPixels: Int = 50_000_000) {
        for depth in [JPEGValidator.Depth.headers, .decode] {
            do {
                try JPEGValidator().validate(bytes, maxPixels: maxPixels, depth: depth)
                Issue.record("the validator (\(depth)) accepted input that should fail with \(code)")
            } catch {
                #expect(error.code == code, "validate (\(depth)): \(error)")
            }
        }
        do {
            _ = try Preprocessor(options: PreprocessOptions(maxPixels: maxPixels)).preprocess(jpeg: bytes)
            Issue.record("preprocess accepted input that should fail with \(code)")
        } catch {
            #expect(error.code == code, "preprocess: \(error)")
            #expect(!error.message.isEmpty)
        }
        do {
            _ = try JPEGDecoder.decodeRGB(jpeg: bytes, maxPixels: maxPixels)
            Issue.record("decodeRGB accepted input that should fail with \(code)")
        } catch {
            #expect(error.code == code, "decodeRGB: \(error)")
        }
    }

    /// The offset of the first start-of-frame marker.
    static func frameOffset(_ jpeg: [UInt8]) -> Int {
        var i = 2
        while i + 4 < jpeg.count {
            precondition(jpeg[i] == 0xFF)
            let marker = jpeg[i + 1]
            if (0xC0...0xC3).contains(marker) { return i }
            i += 2 + (Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3]))
        }
        fatalError("no SOF marker")
    }

    @Test func emptyInput() { expectFailure([], .empty) }

    @Test func notAJPEG() {
        expectFailure(Array("GIF89a, or any other file".utf8), .notJPEG)
        expectFailure([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13], .notJPEG)
    }

    @Test(arguments: [3, 20, 200, 400, 700])
    func truncated(keeping bytes: Int) {
        expectFailure(Array(Self.jpeg.prefix(bytes)), .truncated)
    }

    @Test func truncatedBelowTheCropIsStillReported() throws {
        let rgb = Fixtures.galaxy(width: 200, height: 200)
        let jpeg = try JPEGEncoder.encode(rgb: rgb, width: 200, height: 200, quality: 90)
        // Cut near the end: the crop's rows are complete but the image is not.
        expectFailure(Array(jpeg.prefix(jpeg.count - 60)), .truncated)
    }

    @Test func twelveBitIsUnsupported() {
        var forged = Self.jpeg
        let sof = Self.frameOffset(forged)
        forged[sof + 1] = 0xC1  // extended sequential, which allows 12 bits
        forged[sof + 4] = 12
        expectFailure(forged, .unsupported)
    }

    @Test func losslessIsUnsupported() {
        var forged = Self.jpeg
        forged[Self.frameOffset(forged) + 1] = 0xC3
        expectFailure(forged, .unsupported)
    }

    @Test func overThePixelLimitFromTheHeader() {
        var forged = Self.jpeg
        let sof = Self.frameOffset(forged)
        // 60000 x 60000 = 3.6 gigapixels; refused before anything that size is allocated.
        forged[sof + 5] = 0xEA; forged[sof + 6] = 0x60
        forged[sof + 7] = 0xEA; forged[sof + 8] = 0x60
        expectFailure(forged, .tooLarge)
        expectFailure(Self.jpeg, .tooLarge, maxPixels: 64 * 64 - 1)
    }

    @Test func imageTooSmallForTheCrop() {
        let tiny = try! JPEGEncoder.encode(
            rgb: [UInt8](repeating: 90, count: 2 * 2 * 3), width: 2, height: 2, quality: 90)
        #expect(throws: ImageError.self) {
            try Preprocessor(options: PreprocessOptions(cropFraction: 0.3)).preprocess(jpeg: tiny)
        }
    }

    @Test func errorsDescribeWhatToDo() {
        do {
            _ = try Preprocessor().preprocess(jpeg: Array(Self.jpeg.prefix(300)))
        } catch {
            #expect(error.description.contains("truncated"))
            #expect(error.description.contains("end-of-image marker"))
            #expect(error.description.contains("again"))
        }
    }

    /// Bytes after the end-of-image marker (camera trailers) do not make a file invalid.
    @Test func trailingBytesAfterTheEndMarkerAreAccepted() throws {
        let trailed = Self.jpeg + Array("trailer written by some camera".utf8)
        let info = try JPEGValidator().validate(trailed, depth: .decode)
        #expect(info.width == 64 && info.height == 64)
        #expect(try Preprocessor().preprocess(jpeg: trailed) == (try Preprocessor().preprocess(jpeg: Self.jpeg)))
    }

    @Test func preprocessorStaysUsableAfterFailures() throws {
        let preprocessor = Preprocessor()
        let good = try preprocessor.preprocess(jpeg: Self.jpeg)
        for bad in [[], Array(Self.jpeg.prefix(300)), [0xFF, 0xD8, 0xFF]] as [[UInt8]] {
            #expect(throws: ImageError.self) { try preprocessor.preprocess(jpeg: bad) }
        }
        #expect(try preprocessor.preprocess(jpeg: Self.jpeg) == good)
    }
}
