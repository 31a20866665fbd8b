import Testing

@testable import GalaxyImage

@Suite struct EncoderTests {
    @Test func jpegRoundTripKeepsThePixels() throws {
        let rgb = Fixtures.galaxy(width: 96, height: 80)
        let jpeg = try JPEGEncoder.encode(rgb: rgb, width: 96, height: 80, quality: 95)
        #expect(jpeg.starts(with: [0xFF, 0xD8]))
        let image = try JPEGDecoder.decodeRGB(jpeg: jpeg)
        #expect(image.width == 96 && image.height == 80)
        #expect(Fixtures.meanAbsDiff(image.pixels, rgb) < 3.0)
    }

    @Test func jpegEncoderRejectsMismatchedSizes() {
        #expect(throws: ImageError.self) {
            try JPEGEncoder.encode(rgb: [1, 2, 3], width: 2, height: 2, quality: 90)
        }
        #expect(throws: ImageError.self) {
            try JPEGEncoder.encode(rgb: [1, 2, 3], width: 1, height: 1, quality: 0)
        }
    }

    @Test func pngHasValidChunksAndChecksums() {
        let rgb: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]
        let png = PNGEncoder.encode(rgb: rgb, width: 2, height: 2)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // Walk the chunks, checking each CRC.
        var offset = 8
        var types: [String] = []
        var idat: [UInt8] = []
        while offset < png.count {
            let length = png[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let typeAndData = Array(png[(offset + 4)..<(offset + 8 + length)])
            let crc = png[(offset + 8 + length)..<(offset + 12 + length)].reduce(UInt32(0)) {
                $0 << 8 | UInt32($1)
            }
            #expect(PNGEncoder.crc32(typeAndData) == crc)
            let type = String(decoding: typeAndData.prefix(4), as: UTF8.self)
            types.append(type)
            if type == "IDAT" { idat += typeAndData.dropFirst(4) }
            offset += 12 + length
        }
        #expect(types == ["IHDR", "IDAT", "IEND"])
        // zlib header, one final stored block with the filtered rows, then the Adler-32.
        let raw: [UInt8] = [0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 10, 20, 30]
        #expect(Array(idat.prefix(3)) == [0x78, 0x01, 0x01])
        #expect(Array(idat[7..<(7 + raw.count)]) == raw)
        let adler = idat.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(adler == PNGEncoder.adler32(raw))
    }

    @Test func checksumsMatchKnownValues() {
        #expect(PNGEncoder.crc32(Array("IEND".utf8)) == 0xAE42_6082)
        #expect(PNGEncoder.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
    }

    @Test func largePNGSplitsIntoStoredBlocks() {
        let width = 200, height = 150
        let png = PNGEncoder.encode(
            rgb: [UInt8](repeating: 7, count: width * height * 3), width: width, height: height)
        // 150 rows of 601 bytes need two stored blocks of at most 65535 bytes.
        let expected = 8 + 25 + 12 + (2 + 2 * 5 + 150 * 601 + 4) + 12
        #expect(png.count == expected)
    }
}
