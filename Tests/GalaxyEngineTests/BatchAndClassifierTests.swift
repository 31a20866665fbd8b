import Foundation
import GalaxyImage
import Testing

@testable import GalaxyEngine

@Suite struct BatchAndClassifierTests {
    /// Bit for bit: chunks run their leading layers image by image (in memory every image reuses)
    /// and the rest over the chunk, threads take chunks, and no split reorders a sum. The default
    /// architecture at 16x16 runs its first convolution and pool image by image (its 8x8 Winograd
    /// layer batches 4 images); the shipped model its first three layers (its 12x12 layer batches 3
    /// images, its 6x6 one 7).
    @Test(arguments: [false, true])
    func resultsDoNotDependOnBatchSizeThreadsOrChunking(shipped: Bool) throws {
        let model = shipped ? try ONNX.ModelProto(serialized: DefaultModel.onnx()) : TestModels.defaultArchitecture(size: 16)
        let reference = try InferenceModel(model: model, chunkSize: 1)
        let images = 37, count = reference.inputCount
        let input = TestModels.values(images * count, seed: 99).map { ($0 + 1) / 2 }
        var single: [Float] = []
        for i in 0..<images {
            single += try reference.run(Array(input[(i * count)..<((i + 1) * count)]), batch: 1, threads: 1)
        }
        for (threads, chunk) in [(1, 16), (2, 16), (2, 5), (3, 64)] {
            let engine = try InferenceModel(model: model, chunkSize: chunk)
            let batched = try engine.run(input, batch: images, threads: threads)
            #expect(batched.count == images * reference.outputCount)
            let differing = zip(batched, single).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "threads \(threads), chunk \(chunk): \(differing) values differ from one image at a time")
        }
        #expect(try reference.run([], batch: 0).isEmpty)
        #expect(throws: ModelError.self) { try reference.run([1, 2, 3], batch: 1) }
    }

    /// The slots only the leading layers touch hold one image, reused by every image of a chunk;
    /// whatever the chunked layers read or write keeps an image's worth per image.
    @Test func onlyTheLeadingLayersIntermediatesAreReusedFromImageToImage() throws {
        let graph = try GraphCompiler.compile(TestModels.defaultArchitecture(size: 16))
        let leading = graph.imageByImageLayers, local = graph.imageLocalSlots
        #expect(leading > 0 && leading < graph.layers.count)
        #expect(local.contains(graph.layers[0].output), "the first convolution's output")
        #expect(!local.contains(graph.inputSlot) && !local.contains(graph.outputSlot))
        for layer in graph.layers[leading...] {
            #expect(local.isDisjoint(with: layer.inputSlots + [layer.output]))
        }
    }

    static func jpeg(seed: UInt64, side: Int = 64) throws -> [UInt8] {
        let noise = TestModels.values(side * side * 3, seed: seed)
        var rgb = [UInt8](repeating: 0, count: side * side * 3)
        for y in 0..<side {
            for x in 0..<side {
                let r = hypot(Double(x - side / 2), Double(y - side / 2))
                let base = max(0, 220 - r * 6)
                for c in 0..<3 {
                    let i = (y * side + x) * 3 + c
                    rgb[i] = UInt8(max(0, min(255, base + Double(noise[i]) * 20 + Double(c * 10))))
                }
            }
        }
        return try JPEGEncoder.encode(rgb: rgb, width: side, height: side, quality: 90)
    }

    /// Chunks cover every image once, in order, never above the model's chunk, and shrink to
    /// single images at the end, so no thread waits long for another's last chunk.
    @Test func classifierChunksShrinkToSingleImagesAtTheEnd() {
        for (count, threads, largest) in [(64, 2, 16), (64, 8, 16), (1, 2, 16), (2, 2, 16), (1000, 2, 16), (37, 3, 5), (10, 1, 1)] {
            let bounds = Classifier.chunkBounds(count: count, threads: threads, largest: largest)
            let sizes = zip(bounds, bounds.dropFirst()).map { $1 - $0 }
            #expect(bounds.first == 0 && bounds.last == count)
            #expect(sizes.allSatisfy { $0 >= 1 && $0 <= largest }, "\(count) images: \(sizes)")
            #expect(zip(sizes, sizes.dropFirst()).allSatisfy { $0 >= $1 }, "\(count) images: \(sizes) grow")
            #expect(sizes.suffix(threads).allSatisfy { $0 == 1 }, "\(count) images: \(sizes) end in larger chunks")
        }
        #expect(Classifier.chunkBounds(count: 64, threads: 2, largest: 16).count - 1 < 32, "not all single images")
    }

    @Test func classifierKeepsGoingPastABadImageAndMatchesTheModel() throws {
        let model = try InferenceModel(model: TestModels.defaultArchitecture(size: 16))
        let classifier = Classifier(model: model, threads: 2)
        var jpegs = try (0..<5).map { try Self.jpeg(seed: UInt64($0)) }
        jpegs.insert(Array("not a jpeg".utf8), at: 2)
        jpegs.append(Array(jpegs[0][0..<(jpegs[0].count / 2)]))
        let results = classifier.classify(jpegs)
        #expect(results.count == 7)
        let preprocessor = Preprocessor(options: model.metadata.preprocessOptions)
        for (i, result) in results.enumerated() {
            switch result {
            case .failure(let error):
                #expect(i == 2 || i == 6, "image \(i) failed: \(error)")
                #expect(error.index == i)
            case .success(let prediction):
                #expect(i != 2)
                let tensor = try preprocessor.preprocess(jpeg: jpegs[i])
                let logits = try model.run(tensor, batch: 1, threads: 1)
                let probabilities = logits.withUnsafeBufferPointer { Prediction.probabilities(from: $0, output: .logits) }
                for (p, q) in zip(prediction.scores, probabilities) { #expect(abs(p - q) < 1e-5) }
                #expect(abs(prediction.scores.reduce(0, +) - 1) < 1e-4)
                #expect(prediction.galaxyClass == GalaxyLabelsProbe.highLevel(prediction.label))
                #expect(prediction.probabilities[prediction.label] == prediction.scores.max())
            }
        }
    }

    @Test func testTimeAugmentationAveragesRotations() throws {
        let model = try InferenceModel(model: TestModels.defaultArchitecture(size: 16))
        let classifier = Classifier(model: model, threads: 2)
        let jpegs = try (0..<3).map { try Self.jpeg(seed: 10 + UInt64($0)) }
        let averaged = classifier.classify(jpegs, rotations: [0, 45, 90])
        let byRotation = [0.0, 45, 90].map { classifier.classify(jpegs, rotations: [$0]) }
        for i in 0..<3 {
            let tta = try averaged[i].get().scores
            var mean = [Float](repeating: 0, count: 13)
            for r in byRotation {
                for (j, p) in try r[i].get().scores.enumerated() { mean[j] += p / 3 }
            }
            // One decode serves all rotations, which can move a few edge pixels by a level.
            for (a, b) in zip(tta, mean) { #expect(abs(a - b) < 2e-3) }
        }
    }
}

import GalaxyCore

enum GalaxyLabelsProbe {
    static func highLevel(_ label: String) -> String { GalaxyLabels.highLevelClass(of: label) }
}
