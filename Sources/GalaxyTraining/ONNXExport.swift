import GalaxyCore
import GalaxyEngine
import GalaxyImage

/// What the exported model declares about its input, following the engine's model contract.
public struct ExportMetadata: Sendable, Hashable {
    public var vocabulary: LabelVocabulary
    public var cropFraction: Double
    /// The DCT decode scale the training images were preprocessed with.
    public var decodeScale: DecodeScale
    /// Free-form provenance (data, seed, epochs, accuracy), stored as `galaxy.training`.
    public var training: String?

    public init(vocabulary: LabelVocabulary, cropFraction: Double = 0.26, decodeScale: DecodeScale = .full, training: String? = nil) {
        self.vocabulary = vocabulary
        self.cropFraction = cropFraction
        self.decodeScale = decodeScale
        self.training = training
    }

    public init(labels: [String], cropFraction: Double = 0.26, decodeScale: DecodeScale = .full, training: String? = nil) {
        let vocabulary = (try? LabelVocabulary(labels: labels)) ?? .standard
        self.init(vocabulary: vocabulary, cropFraction: cropFraction, decodeScale: decodeScale, training: training)
    }

    public var labels: [String] { vocabulary.labels }
}

/// Writes trained weights as an ONNX model (opset 13: Conv, BatchNormalization, Relu, MaxPool,
/// GlobalAveragePool, Flatten, Gemm) whose output is the logits, with the `galaxy.*` metadata the
/// engine reads. Dropout is a training-time operation and is left out.
public enum ONNXExport {
    public static func model(
        architecture: Architecture, parameters: [Float], metadata: ExportMetadata
    ) -> ONNX.ModelProto {
        let layout = ParameterLayout(architecture)
        precondition(parameters.count == layout.totalCount, "parameters do not fit the architecture")
        precondition(metadata.labels.count == architecture.classes, "\(metadata.labels.count) labels for \(architecture.classes) classes")
        var nodes: [ONNX.NodeProto] = []
        var current = "input"
        func add(_ op: String, _ inputs: [String], _ name: String, _ attributes: [ONNX.AttributeProto] = []) {
            nodes.append(ONNX.NodeProto(opType: op, inputs: inputs, outputs: ["\(name).out"], name: name, attributes: attributes))
            current = "\(name).out"
        }
        var pools = 0
        for layer in architecture.convLayers {
            let n = layer.index + 1
            let tensors = layout.convs[layer.index]
            add(
                "Conv", [current, tensors.weight.name] + (tensors.bias.map { [$0.name] } ?? []), "conv\(n)",
                [
                    .ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1]), .ints("strides", [1, 1]),
                    .ints("dilations", [1, 1]), .int("group", 1),
                ])
            if let scale = tensors.scale, let shift = tensors.shift, let mean = tensors.runningMean, let variance = tensors.runningVariance {
                add(
                    "BatchNormalization", [current, scale.name, shift.name, mean.name, variance.name], "bn\(n)",
                    [.float("epsilon", NetworkWorkspace.batchNormEpsilon)])
            }
            add("Relu", [current], "relu\(n)")
            if layer.pooled {
                pools += 1
                add("MaxPool", [current], "pool\(pools)", [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])])
            }
        }
        if architecture.globalPool { add("GlobalAveragePool", [current], "gap") }
        add("Flatten", [current], "flatten", [.int("axis", 1)])
        if let (w, b) = layout.hiddenLayer {
            add("Gemm", [current, w.name, b.name], "dense1", [.int("transB", 1)])
            add("Relu", [current], "relu_dense1")
        }
        let (w, b) = layout.logits
        nodes.append(
            ONNX.NodeProto(opType: "Gemm", inputs: [current, w.name, b.name], outputs: ["logits"], name: "logits", attributes: [.int("transB", 1)]))

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
            labels: metadata.labels, classes: metadata.vocabulary.classes, inputSize: side, cropFraction: metadata.cropFraction,
            output: .logits, decodeScale: metadata.decodeScale
        ).properties
        if let training = metadata.training { props.append(.init(key: "galaxy.training", value: training)) }
        return ONNX.ModelProto(graph: graph, metadataProps: props)
    }

    /// The serialised ONNX bytes.
    public static func serialized(architecture: Architecture, parameters: [Float], metadata: ExportMetadata) -> [UInt8] {
        model(architecture: architecture, parameters: parameters, metadata: metadata).serialized()
    }
}
