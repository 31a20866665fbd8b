import Testing

@testable import GalaxyImage

/// Every JPEG variant decodes with TurboJPEG, and the cropped libjpeg decode used by the
/// preprocessing agrees with it.
@Suite struct DecodeTests {
    static let width = 152
    static let height = 136
    static let source = Fixtures.galaxy(width: width, height: height, seed: 7)

    @Test(arguments: Fixtures.variants)
    func variantDecodesCloseToItsSource(_ variant: Fixtures.Variant) throws {
        let jpeg = try Fixtures.encode(Self.source, width: Self.width, height: Self.height, variant: variant)
        let image = try JPEGDecoder.decodeRGB(jpeg: jpeg)
        #expect(image.width == Self.width && image.height == Self.height)
        let expected = variant.options?.storedColor == .grayscale ? Fixtures.gray(Self.source) : Self.source
        let difference = Fixtures.meanAbsDiff(image.pixels, expected)
        #expect(difference < 4.0, "mean absolute difference \(difference) levels for \(variant)")
    }

    @Test(arguments: Fixtures.variants)
    func croppedDecodeMatchesTheFullDecode(_ variant: Fixtures.Variant) throws {
        let jpeg = try Fixtures.encode(Self.source, width: Self.width, height: Self.height, variant: variant)
        let full = try JPEGDecoder.decodeRGB(jpeg: jpeg)
        let preprocessor = Preprocessor(options: PreprocessOptions(cropFraction: 0.26, size: 50))
        let crop = try preprocessor.croppedRGB(jpeg: jpeg)
        let left = 40, top = 35  // round(0.26 * 152), round(0.26 * 136)
        #expect(crop.width == Self.width - 2 * left && crop.height == Self.height - 2 * top)
        let reference = Fixtures.crop(full, left, top, crop.width, crop.height)
        // Chroma upsampling at the crop's first column can see different neighbours; the rest
        // is the same computation.
        #expect(Fixtures.meanAbsDiff(crop.pixels, reference.pixels) < 0.05)
        #expect(Fixtures.maxAbsDiff(crop.pixels, reference.pixels) <= 3)
    }

    @Test func grayscaleIsReplicatedToThreeChannels() throws {
        let jpeg = try JPEGEncoder.encode(
            rgb: Self.source, width: Self.width, height: Self.height,
            options: .init(storedColor: .grayscale))
        let image = try JPEGDecoder.decodeRGB(jpeg: jpeg)
        for i in stride(from: 0, to: image.pixels.count, by: 3) {
            #expect(image.pixels[i] == image.pixels[i + 1] && image.pixels[i] == image.pixels[i + 2])
        }
        let planes = try Preprocessor().preprocess(jpeg: jpeg)
        #expect(Array(planes[0..<2500]) == Array(planes[2500..<5000]))
        #expect(Array(planes[0..<2500]) == Array(planes[5000..<7500]))
    }

    @Test func headerIsReportedThroughTheRegionDecoder() throws {
        let jpeg = try JPEGEncoder.encode(
            rgb: Self.source, width: Self.width, height: Self.height,
            options: .init(progressive: true, arithmeticCoding: true))
        let decoder = RegionDecoder()
        let info = try jpeg.withImageBytes { (bytes) throws(ImageError) in try decoder.readHeader(bytes) }
        decoder.abort()
        #expect(info.width == Self.width && info.height == Self.height)
        #expect(info.progressive && info.arithmeticCoding && info.colorModel == .color)
        #expect(info.components == 3 && info.bitsPerSample == 8)
    }

    @Test func infoReadsTheHeaderWithoutDecoding() throws {
        let jpeg = try JPEGEncoder.encode(
            rgb: Self.source, width: Self.width, height: Self.height, options: .init(storedColor: .cmyk))
        let decoder = JPEGDecoder()
        let info = try decoder.info(jpeg: jpeg)
        #expect(info.width == Self.width && info.height == Self.height)
        #expect(info.colorModel == .cmyk && info.components == 4 && !info.progressive)
        #expect(throws: ImageError.self) { try decoder.info(jpeg: Array(jpeg.prefix(10))) }
        // The decoder stays usable after a header-only read and a failure.
        #expect(try decoder.decodeRGB(jpeg: jpeg).width == Self.width)
    }
}
