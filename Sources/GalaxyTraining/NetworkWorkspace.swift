import Foundation

/// Scratch memory and the forward and backward passes for one thread working on mini-batches of
/// up to `capacity` images. Not thread-safe: one per worker.
final class NetworkWorkspace: @unchecked Sendable {
    let layout: ParameterLayout
    let capacity: Int
    private var architecture: Architecture { layout.architecture }

    // Per conv block: input (CNHW), unfolded columns, post-ReLU output, pooling winners.
    private var blockInputs: [UnsafeMutablePointer<Float>] = []
    private var columns: [UnsafeMutablePointer<Float>] = []
    private var activations: [UnsafeMutablePointer<Float>] = []
    private var argmax: [UnsafeMutablePointer<Int32>] = []
    private let pooledLast: UnsafeMutablePointer<Float>
    private let flat: UnsafeMutablePointer<Float>
    private let hidden: UnsafeMutablePointer<Float>
    /// The logits of the last forward pass, `[images, classes]`.
    let logits: UnsafeMutablePointer<Float>

    // Gradient scratch, sized for the largest block.
    private let gradActivation: UnsafeMutablePointer<Float>
    private let gradColumns: UnsafeMutablePointer<Float>
    private let gradPooled: UnsafeMutablePointer<Float>
    private let gradFlat: UnsafeMutablePointer<Float>
    private let gradHidden: UnsafeMutablePointer<Float>
    private let gradLogits: UnsafeMutablePointer<Float>
    private var allocations: [(UnsafeMutableRawPointer)] = []

    init(layout: ParameterLayout, capacity: Int) {
        self.layout = layout
        self.capacity = capacity
        let arch = layout.architecture
        var allocations: [UnsafeMutableRawPointer] = []
        func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            p.initialize(repeating: 0, count: max(count, 1))
            allocations.append(UnsafeMutableRawPointer(p))
            return p
        }
        var maxActivation = 0
        var maxColumns = 0
        var maxPooled = 0
        for i in 0..<arch.convChannels.count {
            let side = arch.side(beforeBlock: i)
            let cin = arch.channels(beforeBlock: i)
            let cout = arch.convChannels[i]
            let pixels = capacity * side * side
            blockInputs.append(floats(cin * pixels))
            columns.append(floats(cin * 9 * pixels))
            activations.append(floats(cout * pixels))
            let half = side / 2
            let idx = UnsafeMutablePointer<Int32>.allocate(capacity: max(cout * capacity * half * half, 1))
            idx.initialize(repeating: 0, count: max(cout * capacity * half * half, 1))
            allocations.append(UnsafeMutableRawPointer(idx))
            argmax.append(idx)
            maxActivation = max(maxActivation, cout * pixels)
            maxColumns = max(maxColumns, cin * 9 * pixels)
            maxPooled = max(maxPooled, cin * pixels)
        }
        pooledLast = floats(capacity * arch.flattenedCount)
        flat = floats(capacity * arch.flattenedCount)
        hidden = floats(capacity * arch.hidden)
        logits = floats(capacity * arch.classes)
        gradActivation = floats(maxActivation)
        gradColumns = floats(maxColumns)
        gradPooled = floats(max(maxPooled, capacity * arch.flattenedCount))
        gradFlat = floats(capacity * arch.flattenedCount)
        gradHidden = floats(capacity * arch.hidden)
        gradLogits = floats(capacity * arch.classes)
        self.allocations = allocations
    }

    deinit {
        for p in allocations { p.deallocate() }
    }

    /// Runs the network on `images` samples stored one after another in NCHW order and leaves the
    /// logits in `logits`.
    func forward(parameters: UnsafePointer<Float>, input: UnsafePointer<Float>, images: Int) {
        precondition(images <= capacity, "mini-batch of \(images) exceeds the workspace capacity \(capacity)")
        let arch = architecture
        // NCHW samples -> CNHW block input.
        let side0 = arch.inputSize
        let plane0 = side0 * side0
        for n in 0..<images {
            for c in 0..<arch.inputChannels {
                (blockInputs[0] + (c * images + n) * plane0).update(
                    from: input + (n * arch.inputChannels + c) * plane0, count: plane0)
            }
        }
        for i in 0..<arch.convChannels.count {
            let side = arch.side(beforeBlock: i)
            let cin = arch.channels(beforeBlock: i)
            let cout = arch.convChannels[i]
            let width = images * side * side
            let (w, b) = layout.conv(i)
            LayerKernels.im2col(input: blockInputs[i], channels: cin, images: images, side: side, col: columns[i])
            MatrixMultiply.gemm(
                transA: false, transB: false, m: cout, n: width, k: cin * 9,
                a: parameters + w.offset, lda: cin * 9, b: columns[i], ldb: width,
                beta: 0, c: activations[i], ldc: width)
            LayerKernels.addBiasReLU(activations[i], rows: cout, width: width, bias: parameters + b.offset)
            let next = i + 1 < arch.convChannels.count ? blockInputs[i + 1] : pooledLast
            LayerKernels.maxPool(
                input: activations[i], planes: cout * images, side: side, output: next, argmax: argmax[i])
        }
        // CNHW -> one flattened CHW row per image.
        let lastChannels = arch.convChannels.last!
        let lastSide = arch.side(beforeBlock: arch.convChannels.count)
        let lastPlane = lastSide * lastSide
        for n in 0..<images {
            for c in 0..<lastChannels {
                (flat + n * arch.flattenedCount + c * lastPlane).update(
                    from: pooledLast + (c * images + n) * lastPlane, count: lastPlane)
            }
        }
        let (w1, b1) = layout.dense(0)
        let (w2, b2) = layout.dense(1)
        denseForward(
            input: flat, images: images, inCount: arch.flattenedCount, outCount: arch.hidden,
            weight: parameters + w1.offset, bias: parameters + b1.offset, output: hidden, relu: true)
        denseForward(
            input: hidden, images: images, inCount: arch.hidden, outCount: arch.classes,
            weight: parameters + w2.offset, bias: parameters + b2.offset, output: logits, relu: false)
    }

    private func denseForward(
        input: UnsafePointer<Float>, images: Int, inCount: Int, outCount: Int, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, relu: Bool
    ) {
        for n in 0..<images { (output + n * outCount).update(from: bias, count: outCount) }
        MatrixMultiply.gemm(
            transA: false, transB: true, m: images, n: outCount, k: inCount,
            a: input, lda: inCount, b: weight, ldb: inCount, beta: 1, c: output, ldc: outCount)
        if relu {
            for j in 0..<(images * outCount) { output[j] = max(output[j], 0) }
        }
    }

    /// Softmax cross-entropy of the last forward pass against `labels`, and its gradient scaled by
    /// `lossScale` (1 / batch size for a batch mean) written for `backward`.
    /// - Returns: the summed (unscaled) loss and the number of correct top-1 predictions.
    func softmaxCrossEntropy(labels: UnsafePointer<Int32>, images: Int, lossScale: Float) -> (loss: Double, correct: Int) {
        let classes = architecture.classes
        var total = 0.0
        var correct = 0
        for n in 0..<images {
            let z = logits + n * classes
            let g = gradLogits + n * classes
            var top = 0
            for k in 1..<classes where z[k] > z[top] { top = k }
            let label = Int(labels[n])
            if top == label { correct += 1 }
            let zmax = z[top]
            var sum: Float = 0
            for k in 0..<classes {
                let e = expf(z[k] - zmax)
                g[k] = e
                sum += e
            }
            for k in 0..<classes { g[k] = g[k] / sum * lossScale }
            g[label] -= lossScale
            total += Double(logf(sum) + zmax - z[label])
        }
        return (total, correct)
    }

    /// Adds the gradient of the loss set up by `softmaxCrossEntropy` to `gradients`
    /// (same layout as the parameters).
    func backward(parameters: UnsafePointer<Float>, images: Int, gradients: UnsafeMutablePointer<Float>) {
        let arch = architecture
        let (w1, b1) = layout.dense(0)
        let (w2, b2) = layout.dense(1)
        // Logit layer.
        MatrixMultiply.gemm(
            transA: true, transB: false, m: arch.classes, n: arch.hidden, k: images,
            a: gradLogits, lda: arch.classes, b: hidden, ldb: arch.hidden,
            beta: 1, c: gradients + w2.offset, ldc: arch.hidden)
        LayerKernels.addColumnSums(gradLogits, rows: images, width: arch.classes, into: gradients + b2.offset)
        MatrixMultiply.gemm(
            transA: false, transB: false, m: images, n: arch.hidden, k: arch.classes,
            a: gradLogits, lda: arch.classes, b: parameters + w2.offset, ldb: arch.hidden,
            beta: 0, c: gradHidden, ldc: arch.hidden)
        for j in 0..<(images * arch.hidden) where hidden[j] <= 0 { gradHidden[j] = 0 }
        // Hidden layer.
        MatrixMultiply.gemm(
            transA: true, transB: false, m: arch.hidden, n: arch.flattenedCount, k: images,
            a: gradHidden, lda: arch.hidden, b: flat, ldb: arch.flattenedCount,
            beta: 1, c: gradients + w1.offset, ldc: arch.flattenedCount)
        LayerKernels.addColumnSums(gradHidden, rows: images, width: arch.hidden, into: gradients + b1.offset)
        MatrixMultiply.gemm(
            transA: false, transB: false, m: images, n: arch.flattenedCount, k: arch.hidden,
            a: gradHidden, lda: arch.hidden, b: parameters + w1.offset, ldb: arch.flattenedCount,
            beta: 0, c: gradFlat, ldc: arch.flattenedCount)
        // Flattened rows -> CNHW gradient of the last pooled map.
        let blocks = arch.convChannels.count
        let lastChannels = arch.convChannels[blocks - 1]
        let lastSide = arch.side(beforeBlock: blocks)
        let lastPlane = lastSide * lastSide
        for n in 0..<images {
            for c in 0..<lastChannels {
                (gradPooled + (c * images + n) * lastPlane).update(
                    from: gradFlat + n * arch.flattenedCount + c * lastPlane, count: lastPlane)
            }
        }
        for i in stride(from: blocks - 1, through: 0, by: -1) {
            let side = arch.side(beforeBlock: i)
            let cin = arch.channels(beforeBlock: i)
            let cout = arch.convChannels[i]
            let width = images * side * side
            let half = side / 2
            let (w, b) = layout.conv(i)
            LayerKernels.maxPoolReLUBackward(
                gradOutput: gradPooled, argmax: argmax[i], outputCount: cout * images * half * half,
                activation: activations[i], gradInput: gradActivation, inputCount: cout * width)
            MatrixMultiply.gemm(
                transA: false, transB: true, m: cout, n: cin * 9, k: width,
                a: gradActivation, lda: width, b: columns[i], ldb: width,
                beta: 1, c: gradients + w.offset, ldc: cin * 9)
            LayerKernels.addRowSums(gradActivation, rows: cout, width: width, into: gradients + b.offset)
            if i == 0 { break }  // no gradient needed for the input image
            MatrixMultiply.gemm(
                transA: true, transB: false, m: cin * 9, n: width, k: cout,
                a: parameters + w.offset, lda: cin * 9, b: gradActivation, ldb: width,
                beta: 0, c: gradColumns, ldc: width)
            gradPooled.update(repeating: 0, count: cin * width)
            LayerKernels.col2im(col: gradColumns, channels: cin, images: images, side: side, input: gradPooled)
        }
    }
}
