import GalaxyEngine

/// Small ONNX models for the tests, built with the engine's own protobuf types.
enum TestModels {
    /// A model with input `x: [N,3,s,s]`, the given nodes and weights, output `output` as [N,K].
    static func model(
        size s: Int = 4, nodes: [ONNX.NodeProto], initializers: [ONNX.TensorProto] = [], output: String,
        outputCount: Int? = nil, metadata: [ONNX.StringStringEntry] = [], opset: Int64 = 17
    ) -> ONNX.ModelProto {
        var graph = ONNX.GraphProto(name: "test", nodes: nodes, initializers: initializers)
        graph.inputs = [ONNX.ValueInfoProto(name: "x", shape: [.param("N"), .value(3), .value(s), .value(s)])]
        graph.outputs = [ONNX.ValueInfoProto(name: output, shape: [.param("N"), outputCount.map { .value($0) } ?? .unknown])]
        return ONNX.ModelProto(opsetImports: [ONNX.OperatorSetID(version: opset)], graph: graph, metadataProps: metadata)
    }

    /// A model whose body maps `x` to `body_out` (any shape), then flattens to `[N, K]`.
    static func flattened(size s: Int = 4, nodes: [ONNX.NodeProto], initializers: [ONNX.TensorProto] = []) -> ONNX.ModelProto {
        model(
            size: s, nodes: nodes + [ONNX.NodeProto(opType: "Flatten", inputs: ["body_out"], outputs: ["y"])],
            initializers: initializers, output: "y")
    }

    /// `count` images of random pixels in [0, 1] for `model`, drawn afresh each call.
    static func randomImages(_ count: Int, for model: InferenceModel) -> [Float] {
        var generator = SystemRandomNumberGenerator()
        return (0..<(count * model.inputCount)).map { _ in Float.random(in: 0...1, using: &generator) }
    }

    /// Deterministic pseudo-random values in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2_000_000) / 1_000_000 - 1
        }
    }

    /// The default architecture: conv3x3 32 pad 1, relu, maxpool 2, conv3x3 64, relu, pool,
    /// conv3x3 64, relu, pool, flatten, dense 128, relu, dense 13, on 3x50x50.
    static func defaultArchitecture(size s: Int = 50, seed: UInt64 = 1) -> ONNX.ModelProto {
        var nodes: [ONNX.NodeProto] = []
        var inits: [ONNX.TensorProto] = []
        var current = "x"
        var channels = 3
        var side = s
        for (i, out) in [32, 64, 64].enumerated() {
            let fanIn = Float(channels * 9)
            inits.append(ONNX.TensorProto(name: "w\(i)", dims: [out, channels, 3, 3], floats: values(out * channels * 9, seed: seed + UInt64(i)).map { $0 / fanIn.squareRoot() }))
            inits.append(ONNX.TensorProto(name: "b\(i)", dims: [out], floats: values(out, seed: seed + 10 + UInt64(i)).map { $0 * 0.1 }))
            nodes.append(ONNX.NodeProto(opType: "Conv", inputs: [current, "w\(i)", "b\(i)"], outputs: ["c\(i)"], attributes: [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1])]))
            nodes.append(ONNX.NodeProto(opType: "Relu", inputs: ["c\(i)"], outputs: ["r\(i)"]))
            nodes.append(ONNX.NodeProto(opType: "MaxPool", inputs: ["r\(i)"], outputs: ["p\(i)"], attributes: [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])]))
            current = "p\(i)"
            channels = out
            side /= 2
        }
        let flat = channels * side * side
        nodes.append(ONNX.NodeProto(opType: "Flatten", inputs: [current], outputs: ["f"], attributes: [.int("axis", 1)]))
        inits.append(ONNX.TensorProto(name: "d0w", dims: [128, flat], floats: values(128 * flat, seed: seed + 20).map { $0 / Float(flat).squareRoot() }))
        inits.append(ONNX.TensorProto(name: "d0b", dims: [128], floats: values(128, seed: seed + 21).map { $0 * 0.1 }))
        nodes.append(ONNX.NodeProto(opType: "Gemm", inputs: ["f", "d0w", "d0b"], outputs: ["g0"], attributes: [.int("transB", 1)]))
        nodes.append(ONNX.NodeProto(opType: "Relu", inputs: ["g0"], outputs: ["h0"]))
        inits.append(ONNX.TensorProto(name: "d1w", dims: [13, 128], floats: values(13 * 128, seed: seed + 22).map { $0 / Float(128).squareRoot() }))
        inits.append(ONNX.TensorProto(name: "d1b", dims: [13], floats: values(13, seed: seed + 23).map { $0 * 0.1 }))
        nodes.append(ONNX.NodeProto(opType: "Gemm", inputs: ["h0", "d1w", "d1b"], outputs: ["logits"], attributes: [.int("transB", 1)]))
        return model(size: s, nodes: nodes, initializers: inits, output: "logits", outputCount: 13)
    }
}
