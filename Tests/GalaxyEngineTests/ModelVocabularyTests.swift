import GalaxyCore
import Testing

@testable import GalaxyEngine

/// `galaxy.classes`: a model names the high-level class of each of its labels.
@Suite struct ModelVocabularyTests {
    static let gz1Labels = "elliptical,spiral,edge_on,merger"

    /// Four outputs on 4x4 inputs: zero weights and a one-hot bias, so every image scores as label `winner`.
    static func fourLabelModel(winner: Int, metadata: [ONNX.StringStringEntry]) -> ONNX.ModelProto {
        var bias = [Float](repeating: 0, count: 4)
        bias[winner] = 5
        return TestModels.model(
            nodes: [
                ONNX.NodeProto(opType: "Flatten", inputs: ["x"], outputs: ["f"]),
                ONNX.NodeProto(
                    opType: "Gemm", inputs: ["f", "w", "b"], outputs: ["y"], attributes: [.int("transB", 1)]),
            ],
            initializers: [
                ONNX.TensorProto(name: "w", dims: [4, 48], floats: [Float](repeating: 0, count: 4 * 48)),
                ONNX.TensorProto(name: "b", dims: [4], floats: bias),
            ], output: "y", outputCount: 4, metadata: metadata)
    }

    static func refusal(_ model: ONNX.ModelProto) -> ModelError? {
        do {
            _ = try InferenceModel(onnx: model.serialized())
            return nil
        } catch {
            return error
        }
    }

    @Test func classesKeyGivesTheVocabularyAndThePredictedClass() throws {
        let model = Self.fourLabelModel(
            winner: 2,
            metadata: [
                .init(key: "galaxy.labels", value: Self.gz1Labels),
                .init(key: "galaxy.classes", value: "Elliptical, Spiral, Spiral, Ambiguous"),
            ])
        let engine = try InferenceModel(onnx: model.serialized())
        let expected = try LabelVocabulary(
            labels: ["elliptical", "spiral", "edge_on", "merger"],
            classes: ["Elliptical", "Spiral", "Spiral", "Ambiguous"])
        #expect(engine.metadata.vocabulary == expected)
        #expect(engine.metadata.classes == expected.classes)

        let jpeg = try BatchAndClassifierTests.jpeg(seed: 3)
        let prediction = try Classifier(model: engine, threads: 1).classify([jpeg])[0].get()
        #expect(prediction.label == "edge_on")
        #expect(prediction.galaxyClass == "Spiral")
    }

    @Test func withoutTheKeyLabelsTakeTheStandardCollapse() throws {
        let standard = try InferenceModel(model: TestModels.defaultArchitecture(size: 8))
        #expect(standard.metadata.vocabulary == LabelVocabulary.standard)

        let model = Self.fourLabelModel(
            winner: 3, metadata: [.init(key: "galaxy.labels", value: "Er,Sa,SBb,merger")])
        let engine = try InferenceModel(onnx: model.serialized())
        #expect(engine.metadata.classes == ["Elliptical", "Spiral", "BarredSpiral", "merger"])
        let prediction = try Classifier(model: engine, threads: 1).classify([
            try BatchAndClassifierTests.jpeg(seed: 4)
        ])[0].get()
        #expect(prediction.galaxyClass == "merger")
    }

    @Test func invalidClassesAreRefusedNamingTheKey() {
        for bad in [
            "Elliptical,Spiral,Spiral", "Elliptical,Spiral,Spiral,Ambiguous,Extra",
            "Elliptical,,Spiral,Ambiguous", "",
        ] {
            let model = Self.fourLabelModel(
                winner: 0,
                metadata: [
                    .init(key: "galaxy.labels", value: Self.gz1Labels),
                    .init(key: "galaxy.classes", value: bad),
                ])
            let error = Self.refusal(model)
            #expect(error?.code == .invalidMetadata, "'\(bad)'")
            #expect(
                error?.message.contains("galaxy.classes") == true, "'\(bad)': \(String(describing: error))")
        }
    }

    @Test func writtenPropertiesRoundTripTheClasses() throws {
        let metadata = ModelMetadata(
            labels: ["elliptical", "spiral", "edge_on", "merger"],
            classes: ["Elliptical", "Spiral", "Spiral", "Ambiguous"],
            inputSize: 4)
        var model = Self.fourLabelModel(winner: 0, metadata: [])
        model.metadataProps = metadata.properties
        let loaded = try InferenceModel(onnx: model.serialized())
        #expect(loaded.metadata.classes == metadata.classes)
        #expect(loaded.metadata.vocabulary == metadata.vocabulary)
    }
}
