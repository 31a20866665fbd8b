import Testing

@testable import GalaxyEngine

/// Models outside the contract are refused at load with an error naming the node, operator or field.
@Suite struct ValidationTests {
    static func refusal(_ model: ONNX.ModelProto) -> ModelError? {
        do {
            _ = try InferenceModel(onnx: model.serialized())
            return nil
        } catch {
            return error
        }
    }

    @Test func unknownOperatorNamesNodeAndOperator() {
        let model = TestModels.flattened(nodes: [ONNX.NodeProto(opType: "Erf", inputs: ["x"], outputs: ["body_out"], name: "weird")])
        let error = Self.refusal(model)
        #expect(error?.code == .unsupportedOperator)
        #expect(error?.message.contains("'weird'") == true)
        #expect(error?.message.contains("Erf") == true)
    }

    @Test func wrongInputRankOrFixedBatchIsRefused() {
        var model = TestModels.defaultArchitecture(size: 8)
        model.graph.inputs[0].shape = [.param("N"), .value(3), .value(8)]
        #expect(Self.refusal(model)?.message.contains("graph.input 'x'") == true)
        model.graph.inputs[0].shape = [.value(1), .value(3), .value(8), .value(8)]
        #expect(Self.refusal(model)?.code == .invalidShape)
        model.graph.inputs[0].shape = [.param("N"), .value(1), .value(8), .value(8)]
        #expect(Self.refusal(model)?.code == .invalidShape)
    }

    @Test func wrongOutputRankIsRefused() {
        let model = TestModels.model(nodes: [ONNX.NodeProto(opType: "Relu", inputs: ["x"], outputs: ["y"])], output: "y")
        let error = Self.refusal(model)
        #expect(error?.code == .invalidShape)
        #expect(error?.message.contains("graph.output 'y'") == true)
    }

    @Test func labelCountMismatchIsRefused() {
        var model = TestModels.defaultArchitecture(size: 8)
        model.metadataProps = [ONNX.StringStringEntry(key: "galaxy.labels", value: "a,b,c")]
        let error = Self.refusal(model)
        #expect(error?.code == .invalidMetadata)
        #expect(error?.message.contains("galaxy.labels") == true)
        model.metadataProps = [ONNX.StringStringEntry(key: "galaxy.input_size", value: "50")]
        #expect(Self.refusal(model)?.message.contains("galaxy.input_size") == true)
        model.metadataProps = [ONNX.StringStringEntry(key: "galaxy.decode_scale", value: "1/3")]
        #expect(Self.refusal(model)?.message.contains("galaxy.decode_scale") == true)
    }

    @Test func truncatedFileIsRefused() {
        let bytes = TestModels.defaultArchitecture(size: 8).serialized()
        for cut in [1, 10, bytes.count / 3, bytes.count / 2, bytes.count - 7] {
            do {
                _ = try InferenceModel(onnx: Array(bytes[0..<cut]))
                Issue.record("a file cut at \(cut) of \(bytes.count) bytes loaded")
            } catch {
                #expect(error.code == .corrupt, "cut at \(cut): \(error)")
            }
        }
    }

    @Test func shapeProblemsAreFoundAtLoad() {
        // Gemm whose weight does not match the flattened width.
        let gemm = TestModels.model(
            nodes: [
                ONNX.NodeProto(opType: "Flatten", inputs: ["x"], outputs: ["f"]),
                ONNX.NodeProto(opType: "Gemm", inputs: ["f", "w"], outputs: ["y"], name: "dense"),
            ], initializers: [ONNX.TensorProto(name: "w", dims: [5, 2], floats: [Float](repeating: 0, count: 10))], output: "y")
        #expect(Self.refusal(gemm)?.message.contains("'dense'") == true)
        // Reshape that fixes the batch axis.
        let reshape = TestModels.model(
            nodes: [ONNX.NodeProto(opType: "Reshape", inputs: ["x", "s"], outputs: ["y"], name: "r")],
            initializers: [ONNX.TensorProto(name: "s", dims: [2], int64s: [1, -1])], output: "y")
        #expect(Self.refusal(reshape)?.message.contains("batch") == true)
        // A value nothing produces.
        let dangling = TestModels.flattened(nodes: [ONNX.NodeProto(opType: "Relu", inputs: ["nope"], outputs: ["body_out"])])
        #expect(Self.refusal(dangling)?.code == .invalidGraph)
        // Old opset and unknown attributes.
        #expect(Self.refusal(TestModels.defaultArchitecture(size: 8).with(opset: 11))?.message.contains("opset") == true)
        let attr = TestModels.flattened(nodes: [ONNX.NodeProto(opType: "Relu", inputs: ["x"], outputs: ["body_out"], attributes: [.int("bogus", 1)])])
        #expect(Self.refusal(attr)?.message.contains("bogus") == true)
    }

    @Test func metadataDefaultsAndValues() throws {
        let plain = try InferenceModel(model: TestModels.defaultArchitecture(size: 8))
        #expect(plain.metadata.labels == ["A", "Er", "Ei", "Ec", "Sa", "Sb", "Sc", "Sd", "Se", "SBa", "SBb", "SBc", "SBd"])
        #expect(plain.metadata.inputSize == 8)
        #expect(plain.metadata.cropFraction == 0.26)
        #expect(plain.metadata.output == .logits)
        var model = TestModels.defaultArchitecture(size: 8)
        model.metadataProps = ModelMetadata(
            labels: (0..<13).map { "L\($0)" }, inputSize: 8, cropFraction: 0.2, output: .probabilities, mean: [0.5, 0.4, 0.3],
            std: [0.2, 0.2, 0.25], decodeScale: .quarter
        ).properties
        let loaded = try InferenceModel(onnx: model.serialized())
        #expect(loaded.metadata.labels.first == "L0")
        #expect(loaded.metadata.preprocessOptions.decodeScale == .quarter)
        #expect(loaded.metadata.preprocessOptions.cropFraction == 0.2)
        #expect(loaded.metadata.std == [0.2, 0.2, 0.25])
        #expect(loaded.metadata.output == .probabilities)
    }
}

extension ONNX.ModelProto {
    func with(opset: Int64) -> ONNX.ModelProto {
        var copy = self
        copy.opsetImports = [ONNX.OperatorSetID(version: opset)]
        return copy
    }
}
