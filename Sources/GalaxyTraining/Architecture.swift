/// The shape of the trainable network: 3x3 convolutions (padding 1, stride 1), each followed by
/// ReLU and 2x2 max pooling, then a ReLU dense layer and a dense layer to the class logits.
/// The default is the engine benchmark's network: conv 32, 64, 64 on 3x50x50, dense 128, 13 classes.
public struct Architecture: Sendable, Hashable, Codable {
    public var inputChannels: Int
    public var inputSize: Int
    public var convChannels: [Int]
    public var hidden: Int
    public var classes: Int

    public init(
        inputChannels: Int = 3, inputSize: Int = 50, convChannels: [Int] = [32, 64, 64],
        hidden: Int = 128, classes: Int = 13
    ) {
        self.inputChannels = inputChannels
        self.inputSize = inputSize
        self.convChannels = convChannels
        self.hidden = hidden
        self.classes = classes
    }

    /// The side length entering conv block `i` (and `convChannels.count` for the flattened map).
    public func side(beforeBlock i: Int) -> Int {
        var s = inputSize
        for _ in 0..<i { s /= 2 }
        return s
    }

    /// Channels entering conv block `i`.
    public func channels(beforeBlock i: Int) -> Int {
        i == 0 ? inputChannels : convChannels[i - 1]
    }

    /// Length of the flattened feature vector entering the first dense layer.
    public var flattenedCount: Int {
        let s = side(beforeBlock: convChannels.count)
        return (convChannels.last ?? inputChannels) * s * s
    }

    /// Input values per sample.
    public var inputCount: Int { inputChannels * inputSize * inputSize }

    /// Whether the shape is usable: every block keeps at least one pixel.
    public var isValid: Bool {
        inputChannels > 0 && !convChannels.isEmpty && convChannels.allSatisfy { $0 > 0 }
            && hidden > 0 && classes > 1 && side(beforeBlock: convChannels.count) >= 1
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
    public var count: Int { shape.reduce(1, *) }
}

/// Where every weight and bias lives in the one flat parameter vector (so optimisers, gradient
/// reduction and checkpoints work on a single array).
public struct ParameterLayout: Sendable, Hashable {
    public let architecture: Architecture
    public let tensors: [ParameterTensor]
    public let totalCount: Int

    public init(_ architecture: Architecture) {
        self.architecture = architecture
        var tensors: [ParameterTensor] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int]) {
            let t = ParameterTensor(name: name, shape: shape, offset: offset)
            tensors.append(t)
            offset += t.count
        }
        for (i, out) in architecture.convChannels.enumerated() {
            add("conv\(i + 1).weight", [out, architecture.channels(beforeBlock: i), 3, 3])
            add("conv\(i + 1).bias", [out])
        }
        add("dense1.weight", [architecture.hidden, architecture.flattenedCount])
        add("dense1.bias", [architecture.hidden])
        add("dense2.weight", [architecture.classes, architecture.hidden])
        add("dense2.bias", [architecture.classes])
        self.tensors = tensors
        self.totalCount = offset
    }

    /// The conv weight and bias tensors of block `i`.
    func conv(_ i: Int) -> (weight: ParameterTensor, bias: ParameterTensor) {
        (tensors[2 * i], tensors[2 * i + 1])
    }

    /// Dense layer `j` (0: hidden, 1: logits).
    func dense(_ j: Int) -> (weight: ParameterTensor, bias: ParameterTensor) {
        let base = 2 * architecture.convChannels.count + 2 * j
        return (tensors[base], tensors[base + 1])
    }

    /// He-normal weights (suited to ReLU) and zero biases, from a seed.
    public func initialParameters(seed: UInt64) -> [Float] {
        var values = [Float](repeating: 0, count: totalCount)
        var rng = SeededGenerator(seed: seed)
        for t in tensors where t.shape.count > 1 {
            let fanIn = t.shape.dropFirst().reduce(1, *)
            let std = (2.0 / Double(fanIn)).squareRoot()
            for i in 0..<t.count { values[t.offset + i] = Float(rng.nextNormal() * std) }
        }
        return values
    }
}
