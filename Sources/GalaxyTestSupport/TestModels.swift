import GalaxyCore
import GalaxyEngine

/// Tiny ONNX classifiers for tests, written with the engine's ONNX writer: small enough to load and
/// score in microseconds, real enough to go through the engine's validation, preprocessing and
/// inference.
public enum TestModels {
    /// A valid model on 8x8 inputs (conv 3->2, ReLU, max pool, flatten, dense to the 13 standard
    /// labels) whose dense layer has zero weights and a one-hot bias, so every image scores as
    /// `label`, whatever it shows. Two models with different labels make a hot swap visible.
    /// - Parameter label: one of `GalaxyLabels.standard`.
    public static func constant(label: String) -> [UInt8] {
        let labels = GalaxyLabels.standard
        guard let index = labels.firstIndex(of: label) else {
            preconditionFailure("TestModels.constant: '\(label)' is not a standard label")
        }
        var bias = [Float](repeating: 0, count: labels.count)
        bias[index] = 5
        return model(denseWeights: [Float](repeating: 0, count: labels.count * 32), denseBias: bias)
            .serialized()
    }

    /// A valid model whose scores depend on the image (fixed pseudo-random weights), for tests that
    /// need varied labels.
    public static func varied(seed: UInt64 = 1) -> [UInt8] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
        let weights = (0..<(GalaxyLabels.standard.count * 32)).map { _ in next() }
        return model(
            denseWeights: weights, denseBias: [Float](repeating: 0, count: GalaxyLabels.standard.count)
        ).serialized()
    }

    /// A model the engine must refuse: its dense layer reads a tensor that nothing produces.
    public static func invalid() -> [UInt8] {
        var proto = model(
            denseWeights: [Float](repeating: 0, count: 13 * 32), denseBias: [Float](repeating: 0, count: 13))
        proto.graph.nodes[proto.graph.nodes.count - 1].inputs[0] = "missing_tensor"
        return proto.serialized()
    }

    /// A two-label model (Elliptical, Spiral) on 8x8 inputs whose decision hangs on bf16 rounding:
    /// a 1x1 convolution scores Elliptical as 1.0046875 x (r + g + b) and Spiral as (r + g + b) +
    /// `spiralBias`, averaged over the image. bf16 rounds 1.0046875 up to 1.0078125, so with
    /// `spiralBias` 0.01 a mid-grey image (pixel values 0.43..0.71) is Spiral in fp32 and
    /// Elliptical in bf16; with a bias of 0 or 1 both precisions agree.
    public static func precisionSensitive(spiralBias: Float) -> [UInt8] {
        let side = 8
        let nodes = [
            ONNX.NodeProto(opType: "Conv", inputs: ["input", "w", "b"], outputs: ["scores"], name: "conv"),
            ONNX.NodeProto(opType: "GlobalAveragePool", inputs: ["scores"], outputs: ["mean"], name: "gap"),
            ONNX.NodeProto(opType: "Flatten", inputs: ["mean"], outputs: ["logits"], name: "flatten"),
        ]
        let initializers = [
            ONNX.TensorProto(name: "w", dims: [2, 3, 1, 1], floats: [1.0046875, 1.0046875, 1.0046875, 1, 1, 1]),
            ONNX.TensorProto(name: "b", dims: [2], floats: [0, spiralBias]),
        ]
        let graph = ONNX.GraphProto(
            name: "precision-sensitive", nodes: nodes, initializers: initializers,
            inputs: [ONNX.ValueInfoProto(name: "input", shape: [.param("batch"), .value(3), .value(side), .value(side)])],
            outputs: [ONNX.ValueInfoProto(name: "logits", shape: [.param("batch"), .value(2)])])
        let props = [
            ONNX.StringStringEntry(key: "galaxy.labels", value: "Elliptical,Spiral"),
            ONNX.StringStringEntry(key: "galaxy.input_size", value: String(side)),
            ONNX.StringStringEntry(key: "galaxy.output", value: "logits"),
        ]
        return ONNX.ModelProto(graph: graph, metadataProps: props).serialized()
    }

    /// Bytes that are not an ONNX protobuf at all.
    public static let garbage: [UInt8] = Array("this is not an ONNX model".utf8)

    private static func model(denseWeights: [Float], denseBias: [Float]) -> ONNX.ModelProto {
        let side = 8
        // conv: 2 output channels averaging the input channels, so the path is real but cheap.
        let convWeights = [Float](repeating: 1.0 / 27, count: 2 * 3 * 3 * 3)
        let nodes = [
            ONNX.NodeProto(
                opType: "Conv", inputs: ["input", "conv.weight", "conv.bias"], outputs: ["conv.out"],
                name: "conv",
                attributes: [
                    .ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1]), .ints("strides", [1, 1]),
                ]),
            ONNX.NodeProto(opType: "Relu", inputs: ["conv.out"], outputs: ["relu.out"], name: "relu"),
            ONNX.NodeProto(
                opType: "MaxPool", inputs: ["relu.out"], outputs: ["pool.out"], name: "pool",
                attributes: [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])]),
            ONNX.NodeProto(
                opType: "Flatten", inputs: ["pool.out"], outputs: ["flat"], name: "flatten",
                attributes: [.int("axis", 1)]),
            ONNX.NodeProto(
                opType: "Gemm", inputs: ["flat", "dense.weight", "dense.bias"], outputs: ["logits"],
                name: "dense",
                attributes: [.int("transB", 1)]),
        ]
        let classes = GalaxyLabels.standard.count
        let initializers = [
            ONNX.TensorProto(name: "conv.weight", dims: [2, 3, 3, 3], floats: convWeights),
            ONNX.TensorProto(name: "conv.bias", dims: [2], floats: [0, 0]),
            ONNX.TensorProto(name: "dense.weight", dims: [classes, 32], floats: denseWeights),
            ONNX.TensorProto(name: "dense.bias", dims: [classes], floats: denseBias),
        ]
        let graph = ONNX.GraphProto(
            name: "test-classifier", nodes: nodes, initializers: initializers,
            inputs: [
                ONNX.ValueInfoProto(
                    name: "input", shape: [.param("batch"), .value(3), .value(side), .value(side)])
            ],
            outputs: [ONNX.ValueInfoProto(name: "logits", shape: [.param("batch"), .value(classes)])])
        let props = [
            ONNX.StringStringEntry(key: "galaxy.labels", value: GalaxyLabels.standard.joined(separator: ",")),
            ONNX.StringStringEntry(key: "galaxy.input_size", value: String(side)),
            ONNX.StringStringEntry(key: "galaxy.crop_fraction", value: "0.26"),
            ONNX.StringStringEntry(key: "galaxy.output", value: "logits"),
        ]
        return ONNX.ModelProto(graph: graph, metadataProps: props)
    }
}
