import Testing

@testable import GalaxyImage

/// The frame path (`decodedFrame` + `preprocess(frame:transform:)`) that training-time
/// augmentation uses is the JPEG path, split in two.
@Suite struct DecodedFrameTests {
    static let width = 152
    static let height = 136
    static let source = Fixtures.galaxy(width: width, height: height, seed: 5)

    @Test(arguments: Fixtures.variants)
    func identityEqualsTheJPEGPathBitForBit(_ variant: Fixtures.Variant) throws {
        let jpeg = try Fixtures.encode(Self.source, width: Self.width, height: Self.height, variant: variant)
        for scale in DecodeScale.allCases {
            let preprocessor = Preprocessor(options: PreprocessOptions(size: 20, decodeScale: scale))
            let frame = try preprocessor.decodedFrame(jpeg: jpeg)
            #expect(frame.width == scale.scaled(Self.width) && frame.height == scale.scaled(Self.height))
            var output = [Float](repeating: -1, count: preprocessor.options.floatCount)
            output.withUnsafeMutableBufferPointer { preprocessor.preprocess(frame: frame, into: $0) }
            #expect(output == (try preprocessor.preprocess(jpeg: jpeg)), "\(variant) at \(scale.metadataValue)")
        }
    }

    @Test func decodedFrameIsTheFullDecode() throws {
        let jpeg = try JPEGEncoder.encode(rgb: Self.source, width: Self.width, height: Self.height, quality: 90)
        let frame = try Preprocessor().decodedFrame(jpeg: jpeg)
        #expect(frame == (try JPEGDecoder.decodeRGB(jpeg: jpeg)))
    }

    @Test(arguments: [30.0, 45.0, 200.0])
    func rotationMatchesTheJPEGPathsRotation(_ degrees: Double) throws {
        let jpeg = try JPEGEncoder.encode(rgb: Self.source, width: Self.width, height: Self.height, quality: 90)
        let preprocessor = Preprocessor()
        let frame = try preprocessor.decodedFrame(jpeg: jpeg)
        var output = [Float](repeating: -1, count: preprocessor.options.floatCount)
        output.withUnsafeMutableBufferPointer {
            preprocessor.preprocess(frame: frame, transform: FrameTransform(rotationDegrees: degrees), edges: .black, into: $0)
        }
        #expect(output == (try preprocessor.preprocess(jpeg: jpeg, rotationDegrees: degrees)))
    }

    @Test func mirrorAndWholePixelShiftMovePixels() throws {
        let side = 152
        let jpeg = try JPEGEncoder.encode(
            rgb: Fixtures.galaxy(width: side, height: side, seed: 6), width: side, height: side, quality: 90)
        // No resize (size = crop side), so the tensor shows the warped crop's pixels.
        let preprocessor = Preprocessor(options: PreprocessOptions(size: 72))
        let frame = try preprocessor.decodedFrame(jpeg: jpeg)
        let crop = try preprocessor.croppedRGB(jpeg: jpeg)
        #expect(crop.width == 72 && crop.height == 72)
        func tensor(_ transform: FrameTransform) -> [Float] {
            var output = [Float](repeating: -1, count: preprocessor.options.floatCount)
            output.withUnsafeMutableBufferPointer { preprocessor.preprocess(frame: frame, transform: transform, into: $0) }
            return output
        }
        let plain = tensor(.identity), mirrored = tensor(FrameTransform(mirrored: true))
        let shifted = tensor(FrameTransform(shiftX: 3, shiftY: -2))
        let n = 72, plane = n * n
        for c in 0..<3 {
            for y in 0..<n {
                for x in 0..<n {
                    #expect(mirrored[c * plane + y * n + x] == plain[c * plane + y * n + (n - 1 - x)])
                    // Content moved right by 3 and up by 2: output (x, y) shows frame (x - 3, y + 2).
                    let sx = 40 + x - 3, sy = 40 + y + 2
                    let expected = Float(frame.pixels[(sy * side + sx) * 3 + c]) * (1 / 255)
                    #expect(abs(shifted[c * plane + y * n + x] - expected) < 1e-6)
                }
            }
        }
    }
}
