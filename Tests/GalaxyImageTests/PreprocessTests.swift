import Testing

@testable import GalaxyImage

@Suite struct PreprocessTests {
    static let side = 424
    static let source = Fixtures.galaxy(width: side, height: side, seed: 3)
    static let jpeg = try! JPEGEncoder.encode(rgb: source, width: side, height: side, quality: 92)

    @Test func matchesAreaAveragingOfTheFullDecode() throws {
        let full = try JPEGDecoder.decodeRGB(jpeg: Self.jpeg)
        let reference = Fixtures.areaResize(Fixtures.crop(full, 110, 110, 204, 204), to: 50)
        let output = try Preprocessor().preprocess(jpeg: Self.jpeg)
        #expect(output.count == 3 * 50 * 50)
        var worst = 0.0
        for i in 0..<output.count { worst = max(worst, abs(Double(output[i]) - reference[i])) }
        #expect(worst < 2e-3, "max difference \(worst) from the double-precision area average")
    }

    @Test func outputIsNCHWInTheUnitRange() throws {
        // A solid colour makes every plane constant.
        let rgb = [UInt8]((0..<(100 * 80)).flatMap { _ in [UInt8(255), 128, 0] })
        let jpeg = try JPEGEncoder.encode(
            rgb: rgb, width: 100, height: 80, options: .init(quality: 100, subsampling: .s444))
        let output = try Preprocessor(options: PreprocessOptions(size: 8)).preprocess(jpeg: jpeg)
        let planes = [Array(output[0..<64]), Array(output[64..<128]), Array(output[128..<192])]
        for (plane, expected) in zip(planes, [1.0, 128.0 / 255, 0.0]) {
            for v in plane { #expect(abs(Double(v) - expected) < 3.0 / 255) }
        }
    }

    @Test func meanAndStdAreApplied() throws {
        let plain = try Preprocessor().preprocess(jpeg: Self.jpeg)
        let mean: [Float] = [0.2, 0.3, 0.4], std: [Float] = [0.5, 0.25, 0.125]
        let normalized = try Preprocessor(options: PreprocessOptions(mean: mean, std: std)).preprocess(
            jpeg: Self.jpeg)
        for c in 0..<3 {
            for i in (c * 2500)..<((c + 1) * 2500) {
                #expect(abs(normalized[i] - (plain[i] - mean[c]) / std[c]) < 1e-4)
            }
        }
    }

    @Test func bufferAndArrayFormsAgree() throws {
        let preprocessor = Preprocessor()
        var output = [Float](repeating: -1, count: 7500)
        try Self.jpeg.withUnsafeBytes { bytes in
            try output.withUnsafeMutableBufferPointer { out in
                try preprocessor.preprocess(jpeg: bytes, rotationDegrees: 0, into: out)
            }
        }
        #expect(output == (try preprocessor.preprocess(jpeg: Self.jpeg)))
    }

    @Test func eightBitFormIsTheQuantisedTensor() throws {
        let preprocessor = Preprocessor()
        let floats = try preprocessor.preprocess(jpeg: Self.jpeg)
        let image = try preprocessor.preprocessedRGB(jpeg: Self.jpeg)
        #expect(image.width == 50 && image.height == 50)
        for i in 0..<2500 {
            for c in 0..<3 {
                #expect(
                    abs(Double(image.pixels[i * 3 + c]) - Double(floats[c * 2500 + i]) * 255) <= 0.5 + 1e-3)
            }
        }
    }

    @Test(arguments: [DecodeScale.half, .quarter, .eighth])
    func declaredDecodeScaleStaysCloseToFullScale(_ scale: DecodeScale) throws {
        let full = try Preprocessor().preprocess(jpeg: Self.jpeg)
        let preprocessor = Preprocessor(options: PreprocessOptions(decodeScale: scale))
        let scaled = try preprocessor.preprocess(jpeg: Self.jpeg)
        let crop = try preprocessor.croppedRGB(jpeg: Self.jpeg)
        let side = scale.scaled(Self.side)
        let margin = PreprocessOptions().cropMargin(side)
        #expect(crop.width == side - 2 * margin && crop.height == crop.width)
        var total = 0.0
        for i in 0..<full.count { total += abs(Double(full[i] - scaled[i])) }
        // Different on purpose (this is why the scale belongs to the model), but the same picture.
        #expect(total / Double(full.count) < 0.03)
        #expect(scaled != full)
    }

    @Test func rotationByAFullTurnIsTheIdentity() throws {
        let preprocessor = Preprocessor()
        let plain = try preprocessor.preprocess(jpeg: Self.jpeg)
        #expect(try preprocessor.preprocess(jpeg: Self.jpeg, rotationDegrees: 360) == plain)
        #expect(try preprocessor.preprocess(jpeg: Self.jpeg, rotationDegrees: -720) == plain)
    }

    @Test(arguments: [90.0, 180.0, 270.0, -90.0])
    func quarterTurnsPermuteThePixels(_ degrees: Double) throws {
        let preprocessor = Preprocessor()
        let plain = try preprocessor.croppedRGB(jpeg: Self.jpeg)
        let turned = try preprocessor.croppedRGB(jpeg: Self.jpeg, rotationDegrees: degrees)
        let n = plain.width
        var worst = 0
        for y in 0..<n {
            for x in 0..<n {
                // Counterclockwise by `degrees` on screen: the output at (x, y) shows the input at
                // the point rotated back.
                let (sx, sy): (Int, Int)
                switch (Int(degrees) % 360 + 360) % 360 {
                case 90: (sx, sy) = (n - 1 - y, x)
                case 180: (sx, sy) = (n - 1 - x, n - 1 - y)
                default: (sx, sy) = (y, n - 1 - x)
                }
                for c in 0..<3 {
                    worst = max(
                        worst,
                        abs(
                            Int(turned.pixels[(y * n + x) * 3 + c]) - Int(plain.pixels[(sy * n + sx) * 3 + c])
                        ))
                }
            }
        }
        // The rotated path decodes a wider region, so fancy chroma upsampling at the region's
        // edge may differ by a few levels (as in DecodeTests); a wrong mapping would differ by far more.
        #expect(worst <= 3)
    }

    @Test(arguments: [45.0, 30.0, 135.0, 200.0])
    func rotatedCropHasNoEmptyCorners(_ degrees: Double) throws {
        // The sky is never black, so a black pixel would be a corner outside the frame.
        let crop = try Preprocessor().croppedRGB(jpeg: Self.jpeg, rotationDegrees: degrees)
        var darkest = 255
        for i in stride(from: 0, to: crop.pixels.count, by: 3) {
            darkest = min(darkest, Int(crop.pixels[i]) + Int(crop.pixels[i + 1]) + Int(crop.pixels[i + 2]))
        }
        #expect(darkest > 20)
    }

    @Test func rotationLeavesTheCentreInPlace() throws {
        let preprocessor = Preprocessor()
        let plain = try preprocessor.preprocess(jpeg: Self.jpeg)
        let turned = try preprocessor.preprocess(jpeg: Self.jpeg, rotationDegrees: 45)
        #expect(turned != plain)
        // The four central pixels of each plane average the same region either way.
        for c in 0..<3 {
            let centre = [24 * 50 + 24, 24 * 50 + 25, 25 * 50 + 24, 25 * 50 + 25].map { c * 2500 + $0 }
            let a = centre.map { plain[$0] }.reduce(0, +) / 4, b = centre.map { turned[$0] }.reduce(0, +) / 4
            #expect(abs(a - b) < 0.05)
        }
    }

    @Test func rotationOutsideTheFrameIsBlack() throws {
        // Without a crop, a 45 degree turn leaves the corners of the frame empty.
        let preprocessor = Preprocessor(options: PreprocessOptions(cropFraction: 0, size: 53))
        let crop = try preprocessor.croppedRGB(jpeg: Self.jpeg, rotationDegrees: 45)
        #expect(Array(crop.pixels.prefix(3)) == [0, 0, 0])
        #expect(Array(crop.pixels.suffix(3)) == [0, 0, 0])
    }

    @Test func severalRotationsDecodeOnceAndMatchSingleCalls() throws {
        let preprocessor = Preprocessor()
        let rotations = [0.0, 45, 90, 200]
        let together = try preprocessor.preprocess(jpeg: Self.jpeg, rotations: rotations)
        #expect(together.count == rotations.count * 7500)
        for (r, degrees) in rotations.enumerated() {
            let alone = try preprocessor.preprocess(jpeg: Self.jpeg, rotationDegrees: degrees)
            let part = together[(r * 7500)..<((r + 1) * 7500)]
            var worst: Float = 0, total: Float = 0
            for (a, b) in zip(part, alone) {
                worst = max(worst, abs(a - b))
                total += abs(a - b)
            }
            // Only chroma upsampling at the decoded rectangle's edge may differ.
            #expect(worst <= 3.0 / 255 && total / 7500 < 1e-3, "rotation \(degrees): max \(worst)")
        }
        #expect(try preprocessor.preprocess(jpeg: Self.jpeg, rotations: []).isEmpty)
    }
}
