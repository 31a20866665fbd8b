/// The shape of the trainable network: stages of `depth` 3x3 convolutions (padding 1, stride 1),
/// each followed by BatchNorm (optional) and ReLU, every stage ending in 2x2 max pooling; then a
/// head: the last map flattened or globally average-pooled, an optional ReLU dense layer, dropout
/// (optional, training only) and a dense layer to the class logits.
///
/// `Architecture()` is the classic network of the original workflow: conv 32, 64, 64 on 3x50x50,
/// flatten, dense 128, 13 classes. `--arch` specs (`ArchitectureSpec`) describe the others.
public struct Architecture: Sendable, Hashable, Codable {
    public var inputChannels: Int
    public var inputSize: Int
    /// Output channels of every stage.
    public var convChannels: [Int]
    /// Convolutions per stage.
    public var depth: Int
    /// BatchNormalization after every convolution (the convolution then has no bias).
    public var batchNorm: Bool
    /// Global average pooling of the last map instead of flattening it.
    public var globalPool: Bool
    /// Units of the hidden dense layer of the head; 0 for none.
    public var hidden: Int
    /// Dropout probability in front of the logit layer while training.
    public var dropout: Double
    public var classes: Int

    public init(
        inputChannels: Int = 3, inputSize: Int = 50, convChannels: [Int] = [32, 64, 64], depth: Int = 1,
        batchNorm: Bool = false, globalPool: Bool = false, hidden: Int = 128, dropout: Double = 0, classes: Int = 13
    ) {
        self.inputChannels = inputChannels
        self.inputSize = inputSize
        self.convChannels = convChannels
        self.depth = depth
        self.batchNorm = batchNorm
        self.globalPool = globalPool
        self.hidden = hidden
        self.dropout = dropout
        self.classes = classes
    }

    // Checkpoints written before the BatchNorm/GAP options read as the classic head.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inputChannels = try c.decode(Int.self, forKey: .inputChannels)
        inputSize = try c.decode(Int.self, forKey: .inputSize)
        convChannels = try c.decode([Int].self, forKey: .convChannels)
        depth = try c.decodeIfPresent(Int.self, forKey: .depth) ?? 1
        batchNorm = try c.decodeIfPresent(Bool.self, forKey: .batchNorm) ?? false
        globalPool = try c.decodeIfPresent(Bool.self, forKey: .globalPool) ?? false
        hidden = try c.decode(Int.self, forKey: .hidden)
        dropout = try c.decodeIfPresent(Double.self, forKey: .dropout) ?? 0
        classes = try c.decode(Int.self, forKey: .classes)
    }

    /// One convolution of the network, in order.
    public struct ConvLayer: Sendable, Hashable {
        /// 0-based position among all convolutions.
        public var index: Int
        public var inputChannels: Int
        public var outputChannels: Int
        /// Side length of its input (and output) map.
        public var side: Int
        /// Whether 2x2 max pooling follows it (the last convolution of a stage).
        public var pooled: Bool
    }

    /// Every convolution, in order.
    public var convLayers: [ConvLayer] {
        var layers: [ConvLayer] = []
        var side = inputSize
        var channels = inputChannels
        for width in convChannels {
            for j in 0..<depth {
                layers.append(
                    ConvLayer(index: layers.count, inputChannels: channels, outputChannels: width, side: side, pooled: j == depth - 1))
                channels = width
            }
            side /= 2
        }
        return layers
    }

    /// The side length entering stage `i` (and `convChannels.count` for the map entering the head).
    public func side(beforeBlock i: Int) -> Int {
        var s = inputSize
        for _ in 0..<i { s /= 2 }
        return s
    }

    /// Channels of the last map.
    public var lastChannels: Int { convChannels.last ?? inputChannels }

    /// Length of the feature vector entering the head's dense layers.
    public var flattenedCount: Int {
        if globalPool { return lastChannels }
        let s = side(beforeBlock: convChannels.count)
        return lastChannels * s * s
    }

    /// Input values per sample.
    public var inputCount: Int { inputChannels * inputSize * inputSize }

    /// Whether the shape is usable: every stage keeps at least one pixel.
    public var isValid: Bool {
        inputChannels > 0 && !convChannels.isEmpty && convChannels.allSatisfy { $0 > 0 } && depth >= 1
            && hidden >= 0 && classes > 1 && (0..<1).contains(dropout) && side(beforeBlock: convChannels.count) >= 1
    }
}

/// One named tensor inside the flat parameter vector.
public struct ParameterTensor: Sendable, Hashable, Codable {
    /// ONNX-style name, for example `conv1.weight`.
    public var name: String
    /// Dimensions, outermost first (conv weights are `[out, in, 3, 3]`, dense `[out, in]`).
    public var shape: [Int]
    /// Start index in the flat vector.
    public var offset: Int
    /// Whether the optimiser updates it (BatchNorm's running statistics are kept by the forward
    /// pass instead, and get no gradient).
    public var trainable: Bool = true
    /// Whether AdamW's weight decay applies (weights of convolutions and dense layers only).
    public var decays: Bool = false
    public var count: Int { shape.reduce(1, *) }
}

/// Where every weight, bias and BatchNorm statistic lives in the one flat parameter vector (so
/// optimisers, gradient reduction, checkpoints and "best epoch" snapshots work on a single array).
public struct ParameterLayout: Sendable, Hashable {
    public let architecture: Architecture
    public let tensors: [ParameterTensor]
    public let totalCount: Int

    /// The tensors of one convolution: its weight, and either its bias or its BatchNorm's scale,
    /// shift, running mean and running variance.
    struct Conv {
        var weight: ParameterTensor
        var bias: ParameterTensor?
        var scale: ParameterTensor?
        var shift: ParameterTensor?
        var runningMean: ParameterTensor?
        var runningVariance: ParameterTensor?
    }

    let convs: [Conv]
    /// The head's dense layers: the hidden one (if any), then the logit layer.
    let dense: [(weight: ParameterTensor, bias: ParameterTensor)]

    public static func == (a: ParameterLayout, b: ParameterLayout) -> Bool { a.architecture == b.architecture }
    public func hash(into hasher: inout Hasher) { hasher.combine(architecture) }

    public init(_ architecture: Architecture) {
        self.architecture = architecture
        var tensors: [ParameterTensor] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int], trainable: Bool = true, decays: Bool = false) -> ParameterTensor {
            let t = ParameterTensor(name: name, shape: shape, offset: offset, trainable: trainable, decays: decays)
            tensors.append(t)
            offset += t.count
            return t
        }
        var convs: [Conv] = []
        for layer in architecture.convLayers {
            let n = layer.index + 1
            let out = layer.outputChannels
            let weight = add("conv\(n).weight", [out, layer.inputChannels, 3, 3], decays: true)
            if architecture.batchNorm {
                convs.append(
                    Conv(
                        weight: weight, bias: nil, scale: add("bn\(n).weight", [out]), shift: add("bn\(n).bias", [out]),
                        runningMean: add("bn\(n).running_mean", [out], trainable: false),
                        runningVariance: add("bn\(n).running_var", [out], trainable: false)))
            } else {
                convs.append(Conv(weight: weight, bias: add("conv\(n).bias", [out])))
            }
        }
        var dense: [(ParameterTensor, ParameterTensor)] = []
        var width = architecture.flattenedCount
        for units in (architecture.hidden > 0 ? [architecture.hidden] : []) + [architecture.classes] {
            let n = dense.count + 1
            dense.append((add("dense\(n).weight", [units, width], decays: true), add("dense\(n).bias", [units])))
            width = units
        }
        self.convs = convs
        self.dense = dense
        self.tensors = tensors
        self.totalCount = offset
    }

    /// The logit layer.
    var logits: (weight: ParameterTensor, bias: ParameterTensor) { dense[dense.count - 1] }
    /// The hidden dense layer, if the head has one.
    var hiddenLayer: (weight: ParameterTensor, bias: ParameterTensor)? { dense.count > 1 ? dense[0] : nil }

    /// He-normal weights (suited to ReLU), zero biases, BatchNorm scale 1, shift 0, running mean 0
    /// and running variance 1, from a seed.
    public func initialParameters(seed: UInt64) -> [Float] {
        var values = [Float](repeating: 0, count: totalCount)
        var rng = SeededGenerator(seed: seed)
        for t in tensors where t.shape.count > 1 {
            let fanIn = t.shape.dropFirst().reduce(1, *)
            let std = (2.0 / Double(fanIn)).squareRoot()
            for i in 0..<t.count { values[t.offset + i] = Float(rng.nextNormal() * std) }
        }
        for conv in convs {
            for t in [conv.scale, conv.runningVariance].compactMap({ $0 }) {
                for i in 0..<t.count { values[t.offset + i] = 1 }
            }
        }
        return values
    }
}
