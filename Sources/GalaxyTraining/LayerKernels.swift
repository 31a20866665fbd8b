/// The per-layer loops of the network, on channel-major mini-batches: a tensor of `channels`
/// planes, each plane holding `images` consecutive `side`x`side` images (layout CNHW), so one
/// convolution over the whole mini-batch is a single matrix product.
enum LayerKernels {
    /// Unfolds 3x3 neighbourhoods (zero padding 1) into columns:
    /// `col[(c*9 + ky*3 + kx), (n*side*side + y*side + x)]`.
    static func im2col(
        input: UnsafePointer<Float>, channels: Int, images: Int, side: Int,
        col: UnsafeMutablePointer<Float>
    ) {
        let plane = side &* side
        let width = images &* plane
        for c in 0..<channels {
            for ky in 0..<3 {
                for kx in 0..<3 {
                    let row = col + ((c &* 9 &+ ky &* 3 &+ kx) &* width)
                    for n in 0..<images {
                        let src = input + (c &* width &+ n &* plane)
                        let dst = row + (n &* plane)
                        for y in 0..<side {
                            let sy = y &+ ky &- 1
                            let out = dst + (y &* side)
                            if sy < 0 || sy >= side {
                                out.update(repeating: 0, count: side)
                                continue
                            }
                            let line = src + (sy &* side)
                            // x + kx - 1 stays inside except at one edge column.
                            let x0 = kx == 0 ? 1 : 0
                            let x1 = kx == 2 ? side &- 1 : side
                            if kx == 0 { out[0] = 0 }
                            if kx == 2 { out[side &- 1] = 0 }
                            (out + x0).update(from: line + (x0 &+ kx &- 1), count: x1 &- x0)
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds every column entry back onto the pixel it came from.
    /// `input` must be zeroed (or hold values to add to).
    static func col2im(
        col: UnsafePointer<Float>, channels: Int, images: Int, side: Int,
        input: UnsafeMutablePointer<Float>
    ) {
        let plane = side &* side
        let width = images &* plane
        for c in 0..<channels {
            for ky in 0..<3 {
                for kx in 0..<3 {
                    let row = col + ((c &* 9 &+ ky &* 3 &+ kx) &* width)
                    for n in 0..<images {
                        let dst = input + (c &* width &+ n &* plane)
                        let src = row + (n &* plane)
                        for y in 0..<side {
                            let sy = y &+ ky &- 1
                            if sy < 0 || sy >= side { continue }
                            let line = dst + (sy &* side &+ kx &- 1)
                            let from = src + (y &* side)
                            let x0 = kx == 0 ? 1 : 0
                            let x1 = kx == 2 ? side &- 1 : side
                            for x in x0..<x1 { line[x] += from[x] }
                        }
                    }
                }
            }
        }
    }

    /// `rows[r, :] += bias[r]` and then ReLU, in place.
    static func addBiasReLU(_ data: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let b = bias[r]
            let line = data + (r &* width)
            for j in 0..<width { line[j] = max(line[j] + b, 0) }
        }
    }

    /// 2x2 max pooling with stride 2 (floor: an odd last row/column is dropped), remembering
    /// which input won each window for the backward pass.
    static func maxPool(
        input: UnsafePointer<Float>, planes: Int, side: Int, output: UnsafeMutablePointer<Float>,
        argmax: UnsafeMutablePointer<Int32>
    ) {
        let half = side / 2
        let inPlane = side &* side
        let outPlane = half &* half
        for p in 0..<planes {
            let src = input + (p &* inPlane)
            let base = p &* inPlane
            let dst = output + (p &* outPlane)
            let idx = argmax + (p &* outPlane)
            for y in 0..<half {
                for x in 0..<half {
                    let i0 = (2 &* y) &* side &+ 2 &* x
                    var best = i0
                    var value = src[i0]
                    let candidates = (i0 &+ 1, i0 &+ side, i0 &+ side &+ 1)
                    if src[candidates.0] > value { value = src[candidates.0]; best = candidates.0 }
                    if src[candidates.1] > value { value = src[candidates.1]; best = candidates.1 }
                    if src[candidates.2] > value { value = src[candidates.2]; best = candidates.2 }
                    dst[y &* half &+ x] = value
                    idx[y &* half &+ x] = Int32(truncatingIfNeeded: base &+ best)
                }
            }
        }
    }

    /// Routes pooled gradients to the winning inputs and applies the ReLU mask of `activation`
    /// (the post-ReLU values that were pooled). `gradInput` is overwritten.
    static func maxPoolReLUBackward(
        gradOutput: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, outputCount: Int,
        activation: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>, inputCount: Int
    ) {
        gradInput.update(repeating: 0, count: inputCount)
        for i in 0..<outputCount {
            let j = Int(argmax[i])
            if activation[j] > 0 { gradInput[j] = gradOutput[i] }
        }
    }

    /// Sums every row: `out[r] += sum(data[r, :])`.
    static func addRowSums(_ data: UnsafePointer<Float>, rows: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let line = data + (r &* width)
            var sum: Float = 0
            for j in 0..<width { sum += line[j] }
            out[r] += sum
        }
    }

    /// Sums every column: `out[j] += sum(data[:, j])`.
    static func addColumnSums(_ data: UnsafePointer<Float>, rows: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let line = data + (r &* width)
            for j in 0..<width { out[j] += line[j] }
        }
    }
}
