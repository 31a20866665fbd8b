import GalaxyEngine
import GalaxyTestSupport
import Testing

@Suite struct TestModelsTests {
    @Test func modelsParseAsONNX() throws {
        let constant = try ONNX.ModelProto(serialized: TestModels.constant(label: "Sb"))
        #expect(constant.graph.nodes.map(\.opType) == ["Conv", "Relu", "MaxPool", "Flatten", "Gemm"])
        #expect(constant.metadata("galaxy.labels")?.split(separator: ",").count == 13)
        let invalid = try ONNX.ModelProto(serialized: TestModels.invalid())
        #expect(invalid.graph.nodes.last?.inputs.first == "missing_tensor")
    }
}
