import Testing

@testable import GalaxyEngine

@Suite struct ONNXProtobufTests {
    static func sampleModel() -> ONNX.ModelProto {
        var graph = ONNX.GraphProto(name: "sample")
        graph.inputs = [ONNX.ValueInfoProto(name: "x", shape: [.param("N"), .value(3), .value(4), .value(4)])]
        graph.outputs = [ONNX.ValueInfoProto(name: "y", shape: [.param("N"), .value(2)])]
        graph.initializers = [
            ONNX.TensorProto(name: "w", dims: [2, 3], floats: [1, -2, 3.5, 0, 1e-8, -7]),
            ONNX.TensorProto(name: "shape", dims: [2], int64s: [0, -1]),
        ]
        var floatTensor = ONNX.TensorProto(name: "f", dims: [2], dataType: ONNX.DataType.float)
        floatTensor.floatData = [0.25, -4]
        graph.initializers.append(floatTensor)
        graph.nodes = [
            ONNX.NodeProto(
                opType: "Conv", inputs: ["x", "w"], outputs: ["c"], name: "conv0",
                attributes: [
                    .ints("pads", [1, 1, 1, 1]), .int("group", 1), .string("auto_pad", "NOTSET"),
                    .float("alpha", 0.5), .floats("scales", [1, 2]),
                ]),
            ONNX.NodeProto(
                opType: "Constant", inputs: [], outputs: ["k"],
                attributes: [.tensor("value", ONNX.TensorProto(name: "", dims: [1], floats: [3]))]),
        ]
        return ONNX.ModelProto(
            opsetImports: [ONNX.OperatorSetID(version: 17)], graph: graph,
            metadataProps: [ONNX.StringStringEntry(key: "galaxy.labels", value: "a,b")])
    }

    @Test func roundTripKeepsEveryField() throws {
        let model = Self.sampleModel()
        let parsed = try ONNX.ModelProto(serialized: model.serialized())
        #expect(parsed == model)
        #expect(parsed.metadata("galaxy.labels") == "a,b")
        #expect(try parsed.graph.initializers[0].floatValues() == [1, -2, 3.5, 0, 1e-8, -7])
        #expect(try parsed.graph.initializers[1].int64Values() == [0, -1])
        #expect(try parsed.graph.initializers[2].floatValues() == [0.25, -4])
        #expect(parsed.graph.inputs[0].shape == [.param("N"), .value(3), .value(4), .value(4)])
    }

    @Test func everyTruncationIsRefusedWithATypedError() throws {
        let bytes = Self.sampleModel().serialized()
        var refused = 0
        for length in 0..<bytes.count {
            do {
                _ = try ONNX.ModelProto(serialized: Array(bytes[0..<length]))
            } catch {
                #expect(error.code == .corrupt)
                refused += 1
            }
        }
        // A cut on a field boundary after the graph can still parse; cuts inside the graph cannot.
        #expect(refused >= bytes.count / 2)
    }

    @Test func errorsNameTheField() {
        // Field 7 (graph) claiming 100 bytes with only 2 present.
        let bytes: [UInt8] = [0x08, 0x08, 0x3A, 100, 0x0A, 0x00]
        do {
            _ = try ONNX.ModelProto(serialized: bytes)
            Issue.record("truncated graph was accepted")
        } catch {
            #expect(error.code == .corrupt)
            #expect(error.message.contains("graph"))
        }
    }

    @Test func randomBytesNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let original = Self.sampleModel().serialized()
        for _ in 0..<500 {
            var bytes = original
            for _ in 0..<4 {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? ONNX.ModelProto(serialized: bytes)
        }
    }
}
