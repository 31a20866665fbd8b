import Testing

@testable import GalaxyImage

/// Mutated JPEGs never crash the decoders: every input either decodes or fails with an
/// `ImageError` (the type system rules out anything else; a crash would end the test run).
@Suite struct FuzzTests {
    static let seeds: [[UInt8]] = {
        let rgb = Fixtures.galaxy(width: 48, height: 40, seed: 11)
        return [
            nil, JPEGEncoder.Options(progressive: true), .init(arithmeticCoding: true),
            .init(subsampling: .s444, storedColor: .cmyk, restartInterval: 2),
            .init(storedColor: .grayscale, optimizedHuffman: true),
        ]
        .map { options in
            if let options {
                return try! JPEGEncoder.encode(rgb: rgb, width: 48, height: 40, options: options)
            }
            return try! JPEGEncoder.encode(rgb: rgb, width: 48, height: 40, quality: 80)
        }
    }()

    static func mutate(_ input: [UInt8], _ random: inout SeededRandom) -> [UInt8] {
        var bytes = input
        switch random.int(0..<6) {
        case 0:  // flip a few random bytes
            for _ in 0..<random.int(1..<5) { bytes[random.int(0..<bytes.count)] = UInt8(random.int(0..<256)) }
        case 1:  // corrupt the headers, where sizes and tables live
            for _ in 0..<random.int(1..<3) {
                bytes[random.int(0..<min(bytes.count, 700))] = UInt8(random.int(0..<256))
            }
        case 2:  // truncate
            bytes = Array(bytes.prefix(random.int(0..<bytes.count)))
        case 3:  // delete a span
            let start = random.int(0..<bytes.count)
            bytes.removeSubrange(start..<min(bytes.count, start + random.int(1..<64)))
        case 4:  // duplicate a span
            let start = random.int(0..<bytes.count)
            let span = bytes[start..<min(bytes.count, start + random.int(1..<64))]
            bytes.insert(contentsOf: span, at: random.int(0..<bytes.count))
        default:  // set bytes to marker-like values
            for _ in 0..<random.int(1..<4) {
                bytes[random.int(0..<bytes.count)] = [0xFF, 0x00, 0xD9, 0xDA, 0xC4][random.int(0..<5)]
            }
        }
        return bytes
    }

    @Test func thousandsOfMutatedJPEGsNeverCrash() {
        var random = SeededRandom(seed: 2024)
        let preprocessors = [
            Preprocessor(), Preprocessor(options: PreprocessOptions(decodeScale: .quarter)),
            Preprocessor(options: PreprocessOptions(cropFraction: 0.1, size: 16)),
        ]
        let decoder = JPEGDecoder()
        var decoded = 0, failed = 0
        for i in 0..<3000 {
            let input = Self.mutate(Self.seeds[i % Self.seeds.count], &random)
            let preprocessor = preprocessors[i % preprocessors.count]
            do {
                let output = try preprocessor.preprocess(jpeg: input, rotationDegrees: i % 4 == 0 ? 45 : 0)
                #expect(output.allSatisfy { $0.isFinite })
                decoded += 1
            } catch {
                #expect(!error.message.isEmpty)
                failed += 1
            }
            if i % 3 == 0 {
                do {
                    let image = try decoder.decodeRGB(jpeg: input, maxPixels: 1_000_000)
                    #expect(image.pixels.count == image.width * image.height * 3)
                } catch {
                    #expect(!error.message.isEmpty)
                }
            }
        }
        // Both outcomes occur, so the mutations reach the decoder and not only the header check.
        #expect(decoded > 100 && failed > 100, "decoded \(decoded), failed \(failed)")
    }
}
