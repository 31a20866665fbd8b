import Foundation

/// Scratch memory and the forward and backward passes for one thread working on mini-batches of
/// up to `capacity` images. Not thread-safe: one per worker.
final class NetworkWorkspace: @unchecked Sendable {
    let layout: ParameterLayout
    let capacity: Int
    private let layers: [Architecture.ConvLayer]
    private var architecture: Architecture { layout.architecture }

    /// BatchNorm's epsilon, as in PyTorch and ONNX's default.
    static let batchNormEpsilon: Float = 1e-5

    // Per convolution: unfolded columns, BatchNorm's normalised values and 1/std, post-ReLU
    // output, and for the last of a stage the pooled output and the pooling winners.
    private let input0: UnsafeMutablePointer<Float>
    private var columns: [UnsafeMutablePointer<Float>] = []
    private var normalized: [UnsafeMutablePointer<Float>?] = []
    private var inverseStd: [UnsafeMutablePointer<Float>?] = []
    private var activations: [UnsafeMutablePointer<Float>] = []
    private var pooled: [UnsafeMutablePointer<Float>?] = []
    private var argmax: [UnsafeMutablePointer<Int32>?] = []
    /// Per BatchNorm layer: the summed batch means and unbiased variances of the mini-batches
    /// since `resetBatchStatistics`, for the running statistics.
    private(set) var batchMeanSums: [UnsafeMutablePointer<Float>?] = []
    private(set) var batchVarianceSums: [UnsafeMutablePointer<Float>?] = []

    private let features: UnsafeMutablePointer<Float>
    private let hidden: UnsafeMutablePointer<Float>
    private let dropoutMask: UnsafeMutablePointer<Float>
    private let dropped: UnsafeMutablePointer<Float>
    private var dropoutActive = false
    /// The logits of the last forward pass, `[images, classes]`.
    let logits: UnsafeMutablePointer<Float>

    // Gradient scratch, sized for the largest layer.
    private let gradUpper: UnsafeMutablePointer<Float>
    private let gradActivation: UnsafeMutablePointer<Float>
    private let gradColumns: UnsafeMutablePointer<Float>
    private let gradFeatures: UnsafeMutablePointer<Float>
    private let gradHidden: UnsafeMutablePointer<Float>
    private let gradDropped: UnsafeMutablePointer<Float>
    private let gradLogits: UnsafeMutablePointer<Float>
    private var allocations: [UnsafeMutableRawPointer] = []

    init(layout: ParameterLayout, capacity: Int) {
        self.layout = layout
        self.capacity = capacity
        let arch = layout.architecture
        layers = arch.convLayers
        var allocations: [UnsafeMutableRawPointer] = []
        func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            p.initialize(repeating: 0, count: max(count, 1))
            allocations.append(UnsafeMutableRawPointer(p))
            return p
        }
        input0 = floats(arch.inputCount * capacity)
        var maxMap = 0
        var maxColumns = 0
        for layer in layers {
            let pixels = capacity * layer.side * layer.side
            columns.append(floats(layer.inputChannels * 9 * pixels))
            activations.append(floats(layer.outputChannels * pixels))
            normalized.append(arch.batchNorm ? floats(layer.outputChannels * pixels) : nil)
            inverseStd.append(arch.batchNorm ? floats(layer.outputChannels) : nil)
            batchMeanSums.append(arch.batchNorm ? floats(layer.outputChannels) : nil)
            batchVarianceSums.append(arch.batchNorm ? floats(layer.outputChannels) : nil)
            if layer.pooled {
                let half = layer.side / 2
                let count = max(layer.outputChannels * capacity * half * half, 1)
                pooled.append(floats(count))
                let idx = UnsafeMutablePointer<Int32>.allocate(capacity: count)
                idx.initialize(repeating: 0, count: count)
                allocations.append(UnsafeMutableRawPointer(idx))
                argmax.append(idx)
            } else {
                pooled.append(nil)
                argmax.append(nil)
            }
            maxMap = max(maxMap, layer.outputChannels * pixels, layer.inputChannels * pixels)
            maxColumns = max(maxColumns, layer.inputChannels * 9 * pixels)
        }
        let headWidth = max(arch.hidden, arch.flattenedCount)
        features = floats(capacity * arch.flattenedCount)
        hidden = floats(capacity * max(arch.hidden, 1))
        dropoutMask = floats(capacity * headWidth)
        dropped = floats(capacity * headWidth)
        logits = floats(capacity * arch.classes)
        gradUpper = floats(maxMap)
        gradActivation = floats(maxMap)
        gradColumns = floats(maxColumns)
        gradFeatures = floats(capacity * arch.flattenedCount)
        gradHidden = floats(capacity * max(arch.hidden, 1))
        gradDropped = floats(capacity * headWidth)
        gradLogits = floats(capacity * arch.classes)
        self.allocations = allocations
    }

    deinit {
        for p in allocations { p.deallocate() }
    }

    /// The map a convolution reads: the image batch, or the previous layer's (pooled) output.
    private func layerInput(_ i: Int) -> UnsafeMutablePointer<Float> {
        i == 0 ? input0 : (pooled[i - 1] ?? activations[i - 1])
    }

    /// Width of the head's input to the logit layer (after the hidden layer, if any).
    private var logitInputCount: Int { architecture.hidden > 0 ? architecture.hidden : architecture.flattenedCount }

    /// Zeroes the batch-statistic sums that `forward(training: true)` adds to.
    func resetBatchStatistics() {
        for (i, layer) in layers.enumerated() {
            batchMeanSums[i]?.update(repeating: 0, count: layer.outputChannels)
            batchVarianceSums[i]?.update(repeating: 0, count: layer.outputChannels)
        }
    }

    /// Runs the network on `images` samples stored one after another in NCHW order and leaves the
    /// logits in `logits`.
    /// - Parameters:
    ///   - training: BatchNorm normalises with this mini-batch's statistics (and adds them to the
    ///     sums for the running statistics); otherwise with the running statistics in `parameters`.
    ///   - dropoutSeeds: one seed per sample for its dropout mask while training; nil for no dropout.
    func forward(
        parameters: UnsafePointer<Float>, input: UnsafePointer<Float>, images: Int, training: Bool = false,
        dropoutSeeds: UnsafePointer<UInt64>? = nil
    ) {
        precondition(images > 0 && images <= capacity, "mini-batch of \(images) outside the workspace capacity 1...\(capacity)")
        let arch = architecture
        // NCHW samples -> CNHW.
        let plane0 = arch.inputSize * arch.inputSize
        for n in 0..<images {
            for c in 0..<arch.inputChannels {
                (input0 + (c * images + n) * plane0).update(from: input + (n * arch.inputChannels + c) * plane0, count: plane0)
            }
        }
        for (i, layer) in layers.enumerated() {
            let cout = layer.outputChannels
            let width = images * layer.side * layer.side
            let tensors = layout.convs[i]
            LayerKernels.im2col(input: layerInput(i), channels: layer.inputChannels, images: images, side: layer.side, col: columns[i])
            MatrixMultiply.gemm(
                transA: false, transB: false, m: cout, n: width, k: layer.inputChannels * 9,
                a: parameters + tensors.weight.offset, lda: layer.inputChannels * 9, b: columns[i], ldb: width,
                beta: 0, c: activations[i], ldc: width)
            if let bias = tensors.bias {
                LayerKernels.addBiasReLU(activations[i], rows: cout, width: width, bias: parameters + bias.offset)
            } else {
                batchNormReLU(layer: i, parameters: parameters, rows: cout, width: width, training: training)
            }
            if let out = pooled[i] {
                LayerKernels.maxPool(input: activations[i], planes: cout * images, side: layer.side, output: out, argmax: argmax[i]!)
            }
        }
        headForward(parameters: parameters, images: images, dropoutSeeds: training ? dropoutSeeds : nil)
    }

    /// BatchNorm then ReLU over the conv output in `activations[i]` (rows = channels), keeping the
    /// normalised values and 1/std for the backward pass.
    private func batchNormReLU(layer i: Int, parameters: UnsafePointer<Float>, rows: Int, width: Int, training: Bool) {
        let tensors = layout.convs[i]
        let scale = parameters + tensors.scale!.offset
        let shift = parameters + tensors.shift!.offset
        let runningMean = parameters + tensors.runningMean!.offset
        let runningVariance = parameters + tensors.runningVariance!.offset
        let data = activations[i]
        let xhat = normalized[i]!
        let invStd = inverseStd[i]!
        for r in 0..<rows {
            let line = data + r * width
            let norm = xhat + r * width
            var mean: Float
            var variance: Float
            if training {
                var sum = 0.0
                for j in 0..<width { sum += Double(line[j]) }
                let m = sum / Double(width)
                var squares = 0.0
                for j in 0..<width {
                    let d = Double(line[j]) - m
                    squares += d * d
                }
                mean = Float(m)
                variance = Float(squares / Double(width))
                batchMeanSums[i]![r] += mean
                batchVarianceSums[i]![r] += width > 1 ? Float(squares / Double(width - 1)) : variance
            } else {
                mean = runningMean[r]
                variance = runningVariance[r]
            }
            let inv = 1 / (variance + Self.batchNormEpsilon).squareRoot()
            invStd[r] = inv
            let g = scale[r]
            let b = shift[r]
            for j in 0..<width {
                let n = (line[j] - mean) * inv
                norm[j] = n
                line[j] = max(g * n + b, 0)
            }
        }
    }

    private func headForward(parameters: UnsafePointer<Float>, images: Int, dropoutSeeds: UnsafePointer<UInt64>?) {
        let arch = architecture
        let last = layers.count - 1
        let map = pooled[last]!
        let side = arch.side(beforeBlock: arch.convChannels.count)
        let plane = side * side
        let channels = arch.lastChannels
        // CNHW -> one feature row per image.
        for n in 0..<images {
            let row = features + n * arch.flattenedCount
            for c in 0..<channels {
                let src = map + (c * images + n) * plane
                if arch.globalPool {
                    var sum: Float = 0
                    for p in 0..<plane { sum += src[p] }
                    row[c] = sum / Float(plane)
                } else {
                    (row + c * plane).update(from: src, count: plane)
                }
            }
        }
        var x = UnsafePointer(features)
        if let (w, b) = layout.hiddenLayer {
            dense(input: x, images: images, inCount: arch.flattenedCount, outCount: arch.hidden, parameters: parameters, weight: w, bias: b, output: hidden)
            for j in 0..<(images * arch.hidden) { hidden[j] = max(hidden[j], 0) }
            x = UnsafePointer(hidden)
        }
        let width = logitInputCount
        dropoutActive = dropoutSeeds != nil && arch.dropout > 0
        if let dropoutSeeds, dropoutActive {
            let keep = 1 - arch.dropout
            let gain = Float(1 / keep)
            for n in 0..<images {
                var rng = SeededGenerator(seed: dropoutSeeds[n])
                for j in 0..<width {
                    let m: Float = rng.nextUnit() < keep ? gain : 0
                    dropoutMask[n * width + j] = m
                    dropped[n * width + j] = x[n * width + j] * m
                }
            }
            x = UnsafePointer(dropped)
        }
        let (w, b) = layout.logits
        dense(input: x, images: images, inCount: width, outCount: arch.classes, parameters: parameters, weight: w, bias: b, output: logits)
    }

    private func dense(
        input: UnsafePointer<Float>, images: Int, inCount: Int, outCount: Int, parameters: UnsafePointer<Float>,
        weight: ParameterTensor, bias: ParameterTensor, output: UnsafeMutablePointer<Float>
    ) {
        for n in 0..<images { (output + n * outCount).update(from: parameters + bias.offset, count: outCount) }
        MatrixMultiply.gemm(
            transA: false, transB: true, m: images, n: outCount, k: inCount,
            a: input, lda: inCount, b: parameters + weight.offset, ldb: inCount, beta: 1, c: output, ldc: outCount)
    }

    /// The loss of the last forward pass against each sample's target, and its gradient scaled by
    /// `lossScale` (1 / batch size for a batch mean) written for `backward`.
    ///
    /// A target row is a 0/1 mask of the allowed labels (one label or a set: the loss is
    /// −log Σ_{k allowed} p_k) or, where `soft[n]`, a distribution q (the loss is −Σ q_k log p_k).
    /// Label smoothing ε mixes in the uniform target: (1 − ε)·loss + ε·mean_k(−log p_k). Either way
    /// the gradient with respect to the logits is p − t for a target t.
    /// - Returns: the summed (unscaled) loss and the number of samples whose top label is allowed.
    func loss(
        targets: UnsafePointer<Float>, soft: UnsafePointer<Bool>, images: Int, lossScale: Float, smoothing: Float = 0
    ) -> (loss: Double, correct: Int) {
        let classes = architecture.classes
        var total = 0.0
        var correct = 0
        for n in 0..<images {
            let z = logits + n * classes
            let g = gradLogits + n * classes
            let t = targets + n * classes
            let result = Self.softmaxLoss(logits: z, target: t, soft: soft[n], classes: classes, smoothing: smoothing, probabilities: g)
            total += result.loss
            if result.correct { correct += 1 }
            // g holds p; the gradient is (p - target) * scale, with the target computed in place.
            for k in 0..<classes { g[k] = (g[k] - result.target(k)) * lossScale }
        }
        return (total, correct)
    }

    /// Softmax of one logit row into `probabilities`, its loss against the target and the
    /// effective (smoothed) target as a function of the class index.
    static func softmaxLoss(
        logits z: UnsafePointer<Float>, target t: UnsafePointer<Float>, soft: Bool, classes: Int, smoothing: Float,
        probabilities p: UnsafeMutablePointer<Float>
    ) -> (loss: Double, correct: Bool, target: (Int) -> Float) {
        var top = 0
        for k in 1..<classes where z[k] > z[top] { top = k }
        let zmax = z[top]
        var sum: Float = 0
        for k in 0..<classes {
            let e = expf(z[k] - zmax)
            p[k] = e
            sum += e
        }
        let logSum = logf(sum) + zmax
        for k in 0..<classes { p[k] /= sum }
        var uniformLoss = 0.0
        if smoothing > 0 { for k in 0..<classes { uniformLoss += Double(logSum - z[k]) } }
        uniformLoss /= Double(classes)
        let eps = smoothing
        let uniform = eps / Float(classes)
        if soft {
            var loss = 0.0
            var best = 0
            for k in 0..<classes {
                if t[k] > 0 { loss += Double(t[k]) * Double(logSum - z[k]) }
                if t[k] > t[best] { best = k }
            }
            let correct = t[top] == t[best]
            let total = Double(1 - eps) * loss + Double(eps) * uniformLoss
            return (total, correct, { k in (1 - eps) * t[k] + uniform })
        }
        var allowed: Float = 0
        var allowedMax = -Float.infinity
        for k in 0..<classes where t[k] > 0 {
            allowed += p[k]
            allowedMax = max(allowedMax, z[k])
        }
        // −log Σ_allowed p, computed from the logits so that tiny probabilities stay finite.
        var allowedSum: Float = 0
        for k in 0..<classes where t[k] > 0 { allowedSum += expf(z[k] - allowedMax) }
        let setLoss = Double(logSum - (logf(allowedSum) + allowedMax))
        let total = Double(1 - eps) * setLoss + Double(eps) * uniformLoss
        let correct = t[top] > 0
        let share = allowed > 0 ? 1 / allowed : 0
        return (total, correct, { k in t[k] > 0 ? (1 - eps) * p[k] * share + uniform : uniform })
    }

    /// Adds the gradient of the loss set up by `loss` to `gradients` (same layout as the parameters).
    func backward(parameters: UnsafePointer<Float>, images: Int, gradients: UnsafeMutablePointer<Float>) {
        let arch = architecture
        let width = logitInputCount
        let (wl, bl) = layout.logits
        let logitInput: UnsafePointer<Float> =
            dropoutActive ? UnsafePointer(dropped) : (arch.hidden > 0 ? UnsafePointer(hidden) : UnsafePointer(features))
        MatrixMultiply.gemm(
            transA: true, transB: false, m: arch.classes, n: width, k: images,
            a: gradLogits, lda: arch.classes, b: logitInput, ldb: width, beta: 1, c: gradients + wl.offset, ldc: width)
        LayerKernels.addColumnSums(gradLogits, rows: images, width: arch.classes, into: gradients + bl.offset)
        // Gradient with respect to the logit layer's input.
        let gradInput = arch.hidden > 0 ? gradHidden : gradFeatures
        MatrixMultiply.gemm(
            transA: false, transB: false, m: images, n: width, k: arch.classes,
            a: gradLogits, lda: arch.classes, b: parameters + wl.offset, ldb: width, beta: 0, c: gradDropped, ldc: width)
        for j in 0..<(images * width) { gradInput[j] = dropoutActive ? gradDropped[j] * dropoutMask[j] : gradDropped[j] }
        if let (w1, b1) = layout.hiddenLayer {
            for j in 0..<(images * arch.hidden) where hidden[j] <= 0 { gradHidden[j] = 0 }
            MatrixMultiply.gemm(
                transA: true, transB: false, m: arch.hidden, n: arch.flattenedCount, k: images,
                a: gradHidden, lda: arch.hidden, b: features, ldb: arch.flattenedCount,
                beta: 1, c: gradients + w1.offset, ldc: arch.flattenedCount)
            LayerKernels.addColumnSums(gradHidden, rows: images, width: arch.hidden, into: gradients + b1.offset)
            MatrixMultiply.gemm(
                transA: false, transB: false, m: images, n: arch.flattenedCount, k: arch.hidden,
                a: gradHidden, lda: arch.hidden, b: parameters + w1.offset, ldb: arch.flattenedCount,
                beta: 0, c: gradFeatures, ldc: arch.flattenedCount)
        }
        // Feature rows -> CNHW gradient of the last pooled map.
        let side = arch.side(beforeBlock: arch.convChannels.count)
        let plane = side * side
        for n in 0..<images {
            let row = gradFeatures + n * arch.flattenedCount
            for c in 0..<arch.lastChannels {
                let dst = gradUpper + (c * images + n) * plane
                if arch.globalPool {
                    let g = row[c] / Float(plane)
                    for p in 0..<plane { dst[p] = g }
                } else {
                    dst.update(from: row + c * plane, count: plane)
                }
            }
        }
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[i]
            let cout = layer.outputChannels
            let mapWidth = images * layer.side * layer.side
            let tensors = layout.convs[i]
            // gradUpper holds the gradient of this layer's output (pooled or not).
            if layer.pooled {
                let half = layer.side / 2
                LayerKernels.maxPoolReLUBackward(
                    gradOutput: gradUpper, argmax: argmax[i]!, outputCount: cout * images * half * half,
                    activation: activations[i], gradInput: gradActivation, inputCount: cout * mapWidth)
            } else {
                let a = activations[i]
                for j in 0..<(cout * mapWidth) { gradActivation[j] = a[j] > 0 ? gradUpper[j] : 0 }
            }
            if let bias = tensors.bias {
                LayerKernels.addRowSums(gradActivation, rows: cout, width: mapWidth, into: gradients + bias.offset)
            } else {
                batchNormBackward(layer: i, parameters: parameters, rows: cout, width: mapWidth, gradients: gradients)
            }
            MatrixMultiply.gemm(
                transA: false, transB: true, m: cout, n: layer.inputChannels * 9, k: mapWidth,
                a: gradActivation, lda: mapWidth, b: columns[i], ldb: mapWidth,
                beta: 1, c: gradients + tensors.weight.offset, ldc: layer.inputChannels * 9)
            if i == 0 { break }  // no gradient needed for the input image
            MatrixMultiply.gemm(
                transA: true, transB: false, m: layer.inputChannels * 9, n: mapWidth, k: cout,
                a: parameters + tensors.weight.offset, lda: layer.inputChannels * 9, b: gradActivation, ldb: mapWidth,
                beta: 0, c: gradColumns, ldc: mapWidth)
            gradUpper.update(repeating: 0, count: layer.inputChannels * mapWidth)
            LayerKernels.col2im(col: gradColumns, channels: layer.inputChannels, images: images, side: layer.side, input: gradUpper)
        }
    }

    /// Turns the gradient of BatchNorm's output (in `gradActivation`, ReLU mask applied) into the
    /// gradient of its input, in place, and adds the scale and shift gradients:
    /// dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂)).
    private func batchNormBackward(layer i: Int, parameters: UnsafePointer<Float>, rows: Int, width: Int, gradients: UnsafeMutablePointer<Float>) {
        let tensors = layout.convs[i]
        let scale = parameters + tensors.scale!.offset
        let gradScale = gradients + tensors.scale!.offset
        let gradShift = gradients + tensors.shift!.offset
        let xhat = normalized[i]!
        let invStd = inverseStd[i]!
        for r in 0..<rows {
            let dy = gradActivation + r * width
            let x = xhat + r * width
            var sum: Float = 0
            var dot: Float = 0
            for j in 0..<width {
                sum += dy[j]
                dot += dy[j] * x[j]
            }
            gradShift[r] += sum
            gradScale[r] += dot
            let k = scale[r] * invStd[r]
            let meanDy = sum / Float(width)
            let meanDot = dot / Float(width)
            for j in 0..<width { dy[j] = k * (dy[j] - meanDy - x[j] * meanDot) }
        }
    }
}
