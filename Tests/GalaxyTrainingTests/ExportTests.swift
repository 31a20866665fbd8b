import Foundation
import GalaxyCore
import GalaxyEngine
import GalaxyImage
import Testing

@testable import GalaxyTraining

@Suite struct ExportTests {
    /// The exported ONNX runs in the engine with the trainer's own outputs.
    @Test(arguments: [
        Architecture(), Architecture(inputSize: 24, convChannels: [8, 16, 16], hidden: 32, classes: 4),
        Architecture(inputSize: 24, convChannels: [8, 16], depth: 2, batchNorm: true, globalPool: true, hidden: 0, dropout: 0.2, classes: 4),
        Architecture(inputSize: 20, convChannels: [6, 8], batchNorm: true, hidden: 12, dropout: 0.5, classes: 3),
    ])
    func exportedModelMatchesTheTrainersForwardPass(architecture: Architecture) throws {
        let layout = ParameterLayout(architecture)
        var rng = SeededGenerator(seed: 21)
        var parameters = layout.initialParameters(seed: 21)
        for t in layout.tensors where t.shape.count == 1 {
            // Shifted away from their initial values (BatchNorm's statistics included) so that a
            // mixed-up tensor shows.
            for i in 0..<t.count { parameters[t.offset + i] += Float(rng.nextUnit() * 0.2 - 0.1) }
        }
        let images = 5
        let input = (0..<(images * architecture.inputCount)).map { _ in Float(rng.nextUnit()) }
        let labels = architecture.classes == 13 ? GalaxyLabels.standard : (0..<architecture.classes).map { "c\($0)" }
        let onnx = ONNXExport.serialized(
            architecture: architecture, parameters: parameters,
            metadata: ExportMetadata(labels: labels, cropFraction: 0.3, decodeScale: .quarter, training: "test"))

        let model = try InferenceModel(onnx: onnx)
        #expect(model.metadata.labels == labels)
        #expect(model.metadata.inputSize == architecture.inputSize)
        #expect(model.metadata.output == OutputKind.logits)
        #expect(model.metadata.decodeScale == DecodeScale.quarter)
        #expect(abs(model.metadata.cropFraction - 0.3) < 1e-12)
        let engine = try model.run(input, batch: images, threads: 1)

        let trainer = NetworkTrainer(
            architecture: architecture, optimizer: OptimizerSettings(), batchSize: images, threads: 1, seed: 1,
            parameters: parameters)
        let set = SampleSet(sampleSize: architecture.inputCount, features: input, labels: [Int32](repeating: 0, count: images), classes: architecture.classes)
        let ours = trainer.logits(for: set)
        #expect(engine.count == ours.count)
        let worst = zip(engine, ours).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4, "largest difference \(worst)")
    }
}
