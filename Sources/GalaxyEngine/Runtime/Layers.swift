import Foundation

/// What one step reads and writes when it runs on a chunk of `batch` images: a pointer per value
/// slot (each slot holds `batch` items back to back) and the calling thread's scratch memory.
struct Frame {
    let slots: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    let batch: Int
    let scratch: UnsafeMutablePointer<Float>
}

/// One executable step of a compiled model. Steps hold prepacked weights and the per-item sizes
/// computed at load; `run` allocates nothing.
protocol Layer: Sendable {
    /// Floats of scratch memory one call needs (beyond the value slots).
    var scratchCount: Int { get }
    func run(_ frame: Frame)
}

/// Convolution (any padding, stride, dilation, groups) with folded batch norm, bias and fused
/// activation. Lowered per image to im2col + GEMM, a direct GEMM for 1x1, or a direct depthwise loop.
final class ConvLayer: Layer {
    enum Lowering: Sendable { case pointwise, im2col, depthwise, winograd }

    let input: Int, output: Int
    let channels: Int, height: Int, width: Int
    let outChannels: Int, groups: Int
    let window: Window2D
    let outHeight: Int, outWidth: Int
    /// `[outChannels, channels/groups * kH * kW]`, batch norm already folded in.
    let weights: [Float]
    let bias: [Float]
    let activation: Activation
    let lowering: Lowering
    /// True when a following max pool adds the bias and applies the activation on its 4x smaller
    /// output instead (max commutes with a per-channel shift and monotonic activations).
    let deferEpilogue: Bool
    /// True when this layer also does a following 2x2, stride-2 max pool (Winograd only): the
    /// output transform writes `[outChannels, outHeight / 2, outWidth / 2]`, and bias and
    /// activation apply to that.
    let maxPooled: Bool
    /// `U[16][outChannels][channels]` when lowered to Winograd F(2x2, 3x3).
    let winogradWeights: [Float]
    /// The arithmetic of the products; depthwise convolutions stay fp32.
    let precision: Precision
    /// With bf16 precision, the GEMM's weights as bf16 pairs (`Kernels.packBF16Pairs`): U's
    /// `16 * outChannels` rows for Winograd, else `weights`' `outChannels` rows.
    let bf16Weights: [UInt32]
    /// For a bf16 Winograd convolution, each U[k]'s pairs again as panels of 32 rows
    /// (`Winograd.bf16Panels`), for the native path's narrow column blocks.
    let bf16Panels: [UInt32]

    init(
        input: Int, output: Int, channels: Int, height: Int, width: Int, outChannels: Int, groups: Int,
        window: Window2D, outHeight: Int, outWidth: Int, weights: [Float], bias: [Float], activation: Activation,
        deferEpilogue: Bool = false, maxPooled: Bool = false, precision: Precision = .fp32
    ) {
        self.deferEpilogue = deferEpilogue
        self.maxPooled = maxPooled
        self.input = input
        self.output = output
        self.channels = channels
        self.height = height
        self.width = width
        self.outChannels = outChannels
        self.groups = groups
        self.window = window
        self.outHeight = outHeight
        self.outWidth = outWidth
        self.weights = weights
        self.bias = bias
        self.activation = activation
        lowering = Self.lowering(channels: channels, outChannels: outChannels, groups: groups, window: window)
        precondition(!maxPooled || lowering == .winograd, "only a Winograd convolution fuses its max pool")
        winogradWeights = lowering == .winograd ? Winograd.transformWeights(weights, outChannels: outChannels, inChannels: channels) : []
        self.precision = lowering == .depthwise ? .fp32 : precision
        switch (self.precision, lowering) {
        case (.bf16, .winograd):
            bf16Weights = Kernels.packBF16Pairs(winogradWeights, rows: 16 * outChannels, k: channels)
        case (.bf16, _):
            bf16Weights = Kernels.packBF16Pairs(weights, rows: outChannels, k: weights.count / max(outChannels, 1))
        case (.fp32, _):
            bf16Weights = []
        }
        bf16Panels =
            self.precision == .bf16 && lowering == .winograd
            ? Winograd.bf16Panels(bf16Weights, outChannels: outChannels, inChannels: channels) : []
    }

    /// How a convolution of this shape runs.
    static func lowering(channels: Int, outChannels: Int, groups: Int, window w: Window2D) -> Lowering {
        if groups == channels && groups > 1 { return .depthwise }
        if groups == 1 && w.kernelH == 1 && w.kernelW == 1 && w.strideH == 1 && w.strideW == 1
            && w.padTop == 0 && w.padLeft == 0 && w.padBottom == 0 && w.padRight == 0
        {
            return .pointwise
        }
        if Winograd.isEnabled && groups == 1 && w.kernelH == 3 && w.kernelW == 3 && w.strideH == 1 && w.strideW == 1
            && w.dilationH == 1 && w.dilationW == 1 && channels >= 16 && outChannels >= 16
        {
            return .winograd
        }
        return .im2col
    }

    /// `GALAXY_FUSED_POOL=0` keeps a following 2x2 max pool a layer of its own, for comparison.
    static let fusesMaxPool: Bool = ProcessInfo.processInfo.environment["GALAXY_FUSED_POOL"] != "0"

    var scratchCount: Int {
        switch lowering {
        case .im2col: return (channels / groups) * window.kernelH * window.kernelW * outHeight * outWidth
        case .winograd:
            return Winograd.scratchCount(
                inChannels: channels, outChannels: outChannels, outHeight: outHeight, outWidth: outWidth,
                images: Winograd.imagesPerPass(outHeight: outHeight, outWidth: outWidth), bf16: precision == .bf16)
        case .pointwise, .depthwise: return 0
        }
    }

    func run(_ f: Frame) {
        let inItem = channels * height * width
        let plane = outHeight * outWidth
        // What this layer writes per image: the convolution's planes, or their max pool.
        let written = maxPooled ? (outHeight / 2) * (outWidth / 2) : plane
        let outItem = outChannels * written
        let cinG = channels / groups
        let coutG = outChannels / groups
        let k = cinG * window.kernelH * window.kernelW
        let pairs = Kernels.bf16PairCount(k)
        // `[coutG, k]` weights of group g times B `[k, plane]`, in this layer's precision.
        func multiply(group g: Int, weights w: UnsafePointer<Float>, pairs p: UnsafePointer<UInt32>?, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
            if let p {
                Kernels.sgemmBF16(m: coutG, n: plane, k: k, a: p + g * coutG * pairs, lda: pairs, b: b, ldb: plane, c: c, ldc: plane)
            } else {
                Kernels.sgemm(m: coutG, n: plane, k: k, a: w + g * coutG * k, lda: k, b: b, ldb: plane, c: c, ldc: plane)
            }
        }
        weights.withUnsafeBufferPointer { wp in
            bf16Weights.withUnsafeBufferPointer { pp in
                bf16Panels.withUnsafeBufferPointer { panels in
                    bias.withUnsafeBufferPointer { bp in
                        let w = wp.baseAddress!
                        let packed = precision == .bf16 ? pp.baseAddress : nil
                        for n in 0..<f.batch {
                            let x = UnsafePointer(f.slots[input] + n * inItem)
                            let y = f.slots[output] + n * outItem
                            switch lowering {
                            case .pointwise:
                                multiply(group: 0, weights: w, pairs: packed, b: x, c: y)
                            case .im2col:
                                for g in 0..<groups {
                                    Kernels.im2col(
                                        input: x + g * cinG * height * width, channels: cinG, height: height, width: width,
                                        window: window, outputHeight: outHeight, outputWidth: outWidth, columns: f.scratch)
                                    multiply(group: g, weights: w, pairs: packed, b: UnsafePointer(f.scratch), c: y + g * coutG * plane)
                                }
                            case .winograd:
                                // Several images per pass: at the first image of each group.
                                let group = Winograd.imagesPerPass(outHeight: outHeight, outWidth: outWidth)
                                if n % group == 0 {
                                    winogradWeights.withUnsafeBufferPointer { u in
                                        Winograd.convolve(
                                            input: x, images: min(group, f.batch - n), inChannels: channels, height: height, width: width,
                                            padTop: window.padTop, padLeft: window.padLeft, transformedWeights: u.baseAddress!,
                                            outChannels: outChannels, outHeight: outHeight, outWidth: outWidth, bf16Weights: packed,
                                            bf16Panels: panels.baseAddress, maxPooled: maxPooled, scratch: f.scratch, output: y)
                                    }
                                }
                            case .depthwise:
                                Kernels.depthwiseConv(
                                    input: x, channels: channels, height: height, width: width, multiplier: outChannels / channels,
                                    weights: w, window: window, outputHeight: outHeight, outputWidth: outWidth, output: y)
                            }
                            if !deferEpilogue {
                                activation.applyWithRowBias(y, rows: outChannels, columns: written, bias: bp.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `Y = X · W + bias` over rows of the input (Gemm and MatMul against constant weights), with a
/// fused activation. `W` is prepacked `[k, n]` with Gemm's alpha and transB applied.
final class DenseLayer: Layer {
    let input: Int, output: Int
    let rowsPerItem: Int, k: Int, n: Int
    let weights: [Float]
    let bias: [Float]?
    let activation: Activation

    init(input: Int, output: Int, rowsPerItem: Int, k: Int, n: Int, weights: [Float], bias: [Float]?, activation: Activation) {
        self.input = input
        self.output = output
        self.rowsPerItem = rowsPerItem
        self.k = k
        self.n = n
        self.weights = weights
        self.bias = bias
        self.activation = activation
    }

    var scratchCount: Int { 0 }

    func run(_ f: Frame) {
        let rows = f.batch * rowsPerItem
        let y = f.slots[output]
        weights.withUnsafeBufferPointer { wp in
            Kernels.sgemm(m: rows, n: n, k: k, a: UnsafePointer(f.slots[input]), lda: k, b: wp.baseAddress!, ldb: n, c: y, ldc: n)
        }
        if let bias {
            bias.withUnsafeBufferPointer { activation.applyWithColumnBias(y, rows: rows, columns: n, bias: $0.baseAddress!) }
        } else {
            activation.apply(y, count: rows * n)
        }
    }
}

/// MaxPool, AveragePool and GlobalAveragePool over `[channels, height, width]` items.
final class PoolLayer: Layer {
    enum Kind: Sendable, Equatable { case max, average(countIncludePad: Bool), globalAverage }

    let input: Int, output: Int
    let kind: Kind
    let channels: Int, height: Int, width: Int
    let window: Window2D
    let outHeight: Int, outWidth: Int
    /// A preceding convolution's per-channel bias and activation, applied after max pooling.
    let epilogueBias: [Float]?
    let epilogueActivation: Activation

    init(
        input: Int, output: Int, kind: Kind, channels: Int, height: Int, width: Int, window: Window2D, outHeight: Int, outWidth: Int,
        epilogueBias: [Float]? = nil, epilogueActivation: Activation = .none
    ) {
        self.epilogueBias = epilogueBias
        self.epilogueActivation = epilogueActivation
        self.input = input
        self.output = output
        self.kind = kind
        self.channels = channels
        self.height = height
        self.width = width
        self.window = window
        self.outHeight = outHeight
        self.outWidth = outWidth
    }

    var scratchCount: Int { 0 }

    func run(_ f: Frame) {
        let planes = f.batch * channels
        let x = UnsafePointer(f.slots[input])
        let y = f.slots[output]
        switch kind {
        case .max:
            Kernels.maxPool(input: x, planes: planes, height: height, width: width, window: window, outputHeight: outHeight, outputWidth: outWidth, output: y)
            if let epilogueBias {
                epilogueBias.withUnsafeBufferPointer { bias in
                    for n in 0..<f.batch {
                        epilogueActivation.applyWithRowBias(
                            y + n * channels * outHeight * outWidth, rows: channels, columns: outHeight * outWidth, bias: bias.baseAddress!)
                    }
                }
            }
        case .average(let include):
            Kernels.averagePool(
                input: x, planes: planes, height: height, width: width, window: window, countIncludePad: include,
                outputHeight: outHeight, outputWidth: outWidth, output: y)
        case .globalAverage:
            Kernels.globalAveragePool(input: x, planes: planes, size: height * width, output: y)
        }
    }
}

/// A pointwise activation on its own.
final class ActivationLayer: Layer {
    let input: Int, output: Int, countPerItem: Int
    let activation: Activation

    init(input: Int, output: Int, countPerItem: Int, activation: Activation) {
        self.input = input
        self.output = output
        self.countPerItem = countPerItem
        self.activation = activation
    }

    var scratchCount: Int { 0 }

    func run(_ f: Frame) {
        let count = f.batch * countPerItem
        let y = f.slots[output]
        if input != output { y.update(from: f.slots[input], count: count) }
        activation.apply(y, count: count)
    }
}

/// Batch normalization that could not be folded into a convolution: `x * scale[c] + shift[c]`.
final class ChannelAffineLayer: Layer {
    let input: Int, output: Int, channels: Int, spatial: Int
    let scale: [Float], shift: [Float]

    init(input: Int, output: Int, channels: Int, spatial: Int, scale: [Float], shift: [Float]) {
        self.input = input
        self.output = output
        self.channels = channels
        self.spatial = spatial
        self.scale = scale
        self.shift = shift
    }

    var scratchCount: Int { 0 }

    func run(_ f: Frame) {
        let x = f.slots[input], y = f.slots[output]
        for n in 0..<f.batch {
            for c in 0..<channels {
                let base = (n * channels + c) * spatial
                let s = scale[c], t = shift[c]
                for i in 0..<spatial { y[base + i] = x[base + i] * s + t }
            }
        }
    }
}

/// Softmax along one axis of each item: `outer` runs of `length` values spaced `inner` apart.
final class SoftmaxLayer: Layer {
    let input: Int, output: Int, outer: Int, length: Int, inner: Int

    init(input: Int, output: Int, outer: Int, length: Int, inner: Int) {
        self.input = input
        self.output = output
        self.outer = outer
        self.length = length
        self.inner = inner
    }

    var scratchCount: Int { 0 }

    func run(_ f: Frame) {
        Kernels.softmax(UnsafePointer(f.slots[input]), f.slots[output], outer: f.batch * outer, length: length, inner: inner)
    }
}

/// Concat along an axis after the batch: each item is `outer` repetitions of every input's block.
final class ConcatLayer: Layer {
    let inputs: [Int], blocks: [Int]
    let output: Int, outer: Int

    init(inputs: [Int], blocks: [Int], output: Int, outer: Int) {
        self.inputs = inputs
        self.blocks = blocks
        self.output = output
        self.outer = outer
    }

    var scratchCount: Int { 0 }

    func run(_ f: Frame) {
        var dst = f.slots[output]
        for o in 0..<(f.batch * outer) {
            for (i, slot) in inputs.enumerated() {
                let block = blocks[i]
                dst.update(from: f.slots[slot] + o * block, count: block)
                dst += block
            }
        }
    }
}

/// Copies a value to another slot (when the graph output would otherwise alias its input).
final class CopyLayer: Layer {
    let input: Int, output: Int, countPerItem: Int

    init(input: Int, output: Int, countPerItem: Int) {
        self.input = input
        self.output = output
        self.countPerItem = countPerItem
    }

    var scratchCount: Int { 0 }

    func run(_ f: Frame) {
        f.slots[output].update(from: f.slots[input], count: f.batch * countPerItem)
    }
}
