import GalaxyCore
import GalaxyEngine
import GalaxyImage
import GalaxyService
import GalaxyTestSupport
import Testing

@Suite struct TestModelsTests {
    static func jpeg(seed: Int) throws -> [UInt8] {
        let rgb = (0..<(32 * 32 * 3)).map { UInt8(truncatingIfNeeded: $0 &* seed) }
        return try JPEGEncoder.encode(rgb: rgb, width: 32, height: 32, quality: 90)
    }

    @Test func modelsParseAsONNX() throws {
        let constant = try ONNX.ModelProto(serialized: TestModels.constant(label: "Sb"))
        #expect(constant.graph.nodes.map(\.opType) == ["Conv", "Relu", "MaxPool", "Flatten", "Gemm"])
        #expect(constant.metadata("galaxy.labels")?.split(separator: ",").count == 13)
        let invalid = try ONNX.ModelProto(serialized: TestModels.invalid())
        #expect(invalid.graph.nodes.last?.inputs.first == "missing_tensor")
    }

    @Test func theEngineScoresTheConstantModelAndFailsOnlyTheCorruptImage() throws {
        let model = try EngineModelLoader().load(onnx: TestModels.constant(label: "Sb"), threads: 2)
        #expect(model.labels == GalaxyLabels.standard)
        let good = try Self.jpeg(seed: 3)
        let outcomes = model.score(
            jpegs: [good, Array(good.prefix(40)), try Self.jpeg(seed: 5)], imageIDs: [7, 8, 9])
        guard case .scored(let first) = outcomes[0], case .failed(let error) = outcomes[1],
            case .scored(let third) = outcomes[2]
        else {
            Issue.record("expected scored, failed, scored; got \(outcomes)")
            return
        }
        #expect(first.label == "Sb" && first.galaxyClass == "Spiral" && third.label == "Sb")
        #expect(abs(first.probabilities.values.reduce(0, +) - 1) < 1e-4)
        #expect(error.code == .truncatedImage)
        #expect(error.message.hasPrefix("decode image 8: "))
        #expect(model.preprocessingJSON == #"{"crop_fraction":0.26,"decode_scale":"1","size":8}"#)
        #expect(model.metadataJSON.contains(#""output":"logits""#))
    }

    @Test func theEngineRefusesTheInvalidModelNamingTheTensor() {
        #expect {
            _ = try ModelValidation.validate(onnx: TestModels.invalid())
        } throws: { error in "\(error)".contains("missing_tensor") }
        #expect(throws: (any Error).self) { _ = try ModelValidation.validate(onnx: TestModels.garbage) }
        #expect(throws: Never.self) { _ = try ModelValidation.validate(onnx: TestModels.varied()) }
    }
}
