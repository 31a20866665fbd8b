import GalaxyEngine
import GalaxyImage

/// What the exported model declares about its input, following the engine's model contract.
public struct ExportMetadata: Sendable, Hashable {
    public var labels: [String]
    public var cropFraction: Double
    /// The DCT decode scale the training images were preprocessed with.
    public var decodeScale: DecodeScale
    /// Free-form provenance (data, seed, epochs, accuracy), stored as `galaxy.training`.
    public var training: String?

    public init(labels: [String], cropFraction: Double = 0.26, decodeScale: DecodeScale = .full, training: String? = nil) {
        self.labels = labels
        self.cropFraction = cropFraction
        self.decodeScale = decodeScale
        self.training = training
    }
}

/// Writes trained weights as an ONNX model (opset 13: Conv, Relu, MaxPool, Flatten, Gemm) whose
/// output is the logits, with the `galaxy.*` metadata the engine reads.
public enum ONNXExport {
    public static func model(
        architecture: Architecture, parameters: [Float], metadata: ExportMetadata
    ) -> ONNX.ModelProto {
        let layout = ParameterLayout(architecture)
        precondition(parameters.count == layout.totalCount, "parameters do not fit the architecture")
        precondition(metadata.labels.count == architecture.classes, "\(metadata.labels.count) labels for \(architecture.classes) classes")
        var nodes: [ONNX.NodeProto] = []
        var current = "input"
        for i in 0..<architecture.convChannels.count {
            let (w, b) = layout.conv(i)
            let name = "conv\(i + 1)"
            nodes.append(
                ONNX.NodeProto(
                    opType: "Conv", inputs: [current, w.name, b.name], outputs: ["\(name).out"], name: name,
                    attributes: [
                        .ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1]), .ints("strides", [1, 1]),
                        .ints("dilations", [1, 1]), .int("group", 1),
                    ]))
            nodes.append(ONNX.NodeProto(opType: "Relu", inputs: ["\(name).out"], outputs: ["relu\(i + 1).out"], name: "relu\(i + 1)"))
            nodes.append(
                ONNX.NodeProto(
                    opType: "MaxPool", inputs: ["relu\(i + 1).out"], outputs: ["pool\(i + 1).out"], name: "pool\(i + 1)",
                    attributes: [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])]))
            current = "pool\(i + 1).out"
        }
        nodes.append(ONNX.NodeProto(opType: "Flatten", inputs: [current], outputs: ["flat"], name: "flatten", attributes: [.int("axis", 1)]))
        let (w1, b1) = layout.dense(0)
        let (w2, b2) = layout.dense(1)
        nodes.append(
            ONNX.NodeProto(
                opType: "Gemm", inputs: ["flat", w1.name, b1.name], outputs: ["dense1.out"], name: "dense1",
                attributes: [.int("transB", 1)]))
        nodes.append(ONNX.NodeProto(opType: "Relu", inputs: ["dense1.out"], outputs: ["hidden"], name: "relu_dense1"))
        nodes.append(
            ONNX.NodeProto(
                opType: "Gemm", inputs: ["hidden", w2.name, b2.name], outputs: ["logits"], name: "dense2",
                attributes: [.int("transB", 1)]))

        let initializers = layout.tensors.map { t in
            ONNX.TensorProto(name: t.name, dims: t.shape, floats: Array(parameters[t.offset..<(t.offset + t.count)]))
        }
        let side = architecture.inputSize
        let graph = ONNX.GraphProto(
            name: "galaxy-cnn", nodes: nodes, initializers: initializers,
            inputs: [
                ONNX.ValueInfoProto(
                    name: "input", shape: [.param("batch"), .value(architecture.inputChannels), .value(side), .value(side)])
            ],
            outputs: [ONNX.ValueInfoProto(name: "logits", shape: [.param("batch"), .value(architecture.classes)])])
        var props = ModelMetadata(
            labels: metadata.labels, inputSize: side, cropFraction: metadata.cropFraction, output: .logits,
            decodeScale: metadata.decodeScale
        ).properties
        if let training = metadata.training { props.append(.init(key: "galaxy.training", value: training)) }
        return ONNX.ModelProto(graph: graph, metadataProps: props)
    }

    /// The serialised ONNX bytes.
    public static func serialized(architecture: Architecture, parameters: [Float], metadata: ExportMetadata) -> [UInt8] {
        model(architecture: architecture, parameters: parameters, metadata: metadata).serialized()
    }
}
