import CGalaxyKernels

/// Geometry of a 2-D convolution or pooling window over one image plane.
public struct Window2D: Sendable, Equatable {
    public var kernelH: Int, kernelW: Int
    public var strideH: Int = 1, strideW: Int = 1
    public var padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0
    public var dilationH: Int = 1, dilationW: Int = 1

    public init(
        kernelH: Int, kernelW: Int, strideH: Int = 1, strideW: Int = 1, padTop: Int = 0, padLeft: Int = 0,
        padBottom: Int = 0, padRight: Int = 0, dilationH: Int = 1, dilationW: Int = 1
    ) {
        self.kernelH = kernelH
        self.kernelW = kernelW
        self.strideH = strideH
        self.strideW = strideW
        self.padTop = padTop
        self.padLeft = padLeft
        self.padBottom = padBottom
        self.padRight = padRight
        self.dilationH = dilationH
        self.dilationW = dilationW
    }

    /// Whether every window of an `outputHeight x outputWidth` result over a `height x width` input
    /// is one aligned 2x2 block of it: 2x2, stride 2, no dilation, starting at the top-left corner
    /// and never reaching past the input (what the C pooling loop and the pooled Winograd output
    /// transform compute).
    func coversAlignedTwoByTwoBlocks(height: Int, width: Int, outputHeight: Int, outputWidth: Int) -> Bool {
        kernelH == 2 && kernelW == 2 && strideH == 2 && strideW == 2 && padTop == 0 && padLeft == 0
            && dilationH == 1 && dilationW == 1 && outputHeight * 2 <= height && outputWidth * 2 <= width
    }

    /// Output size along one axis (floor rounding, or ceil as pooling's `ceil_mode` asks).
    static func outputSize(input: Int, kernel: Int, stride: Int, padHead: Int, padTail: Int, dilation: Int, ceil: Bool) -> Int {
        let effective = (kernel - 1) * dilation + 1
        let span = input + padHead + padTail - effective
        if span < 0 { return 0 }
        if !ceil { return span / stride + 1 }
        var out = (span + stride - 1) / stride + 1
        // The last window must start inside the input or the head padding.
        if (out - 1) * stride >= input + padHead { out -= 1 }
        return out
    }
}

extension Kernels {
    /// Lowers one image `[channels, height, width]` to columns `[channels*kH*kW, outH*outW]` for a
    /// convolution as a GEMM. Padding reads as zero. `outputRows` limits the work to the columns of
    /// those output rows (the others are left as they are).
    public static func im2col(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int, window w: Window2D,
        outputHeight oh: Int, outputWidth ow: Int, columns: UnsafeMutablePointer<Float>, outputRows: Range<Int>? = nil
    ) {
        // The AVX-512 paths copy rows with masked loads (galaxy_im2col); this loop is the others'.
        let rows = outputRows ?? 0..<oh
        var geometry = convWindow(channels: channels, height: height, width: width, window: w, outputHeight: oh, outputWidth: ow)
        if galaxy_im2col(input, &geometry, Int32(rows.lowerBound), Int32(rows.count), columns, oh * ow) != 0 { return }
        let plane = oh * ow
        var row = 0
        for c in 0..<channels {
            let src = input + c * height * width
            for i in 0..<w.kernelH {
                for j in 0..<w.kernelW {
                    let dst = columns + row * plane
                    let dy = i * w.dilationH - w.padTop
                    let dx = j * w.dilationW - w.padLeft
                    // Output columns whose input x lies inside [0, width).
                    var first = 0
                    while first < ow && first * w.strideW + dx < 0 { first += 1 }
                    var last = ow
                    while last > first && (last - 1) * w.strideW + dx >= width { last -= 1 }
                    for y in rows {
                        let iy = y * w.strideH + dy
                        let out = dst + y * ow
                        // Short rows: plain loops beat memset/memmove calls here.
                        if iy < 0 || iy >= height {
                            for x in 0..<ow { out[x] = 0 }
                            continue
                        }
                        for x in 0..<first { out[x] = 0 }
                        let srcRow = src + iy * width + dx
                        if w.strideW == 1 {
                            for x in first..<max(first, last) { out[x] = srcRow[x] }
                        } else {
                            var x = first
                            while x < last {
                                out[x] = srcRow[x * w.strideW]
                                x += 1
                            }
                        }
                        for x in max(first, last)..<ow { out[x] = 0 }
                    }
                    row += 1
                }
            }
        }
    }

    /// The im2col matrix of output rows `rows` of one image, written as bf16 pairs for
    /// `galaxy_sgemm_bf16_packed` (`galaxy_im2col_bf16_pairs`): `ceil(k / 2)` rows `ldp` apart,
    /// zero past `rows.count * ow`. False, with nothing written, when the kernel path has no such
    /// loop or the shape is not one it takes.
    static func im2colBF16Pairs(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int, window w: Window2D,
        outputHeight oh: Int, outputWidth ow: Int, rows: Range<Int>, pairs: UnsafeMutablePointer<UInt32>, ldp: Int
    ) -> Bool {
        var geometry = convWindow(channels: channels, height: height, width: width, window: w, outputHeight: oh, outputWidth: ow)
        return galaxy_im2col_bf16_pairs(input, &geometry, Int32(rows.lowerBound), Int32(rows.count), pairs, ldp) != 0
    }

    /// A convolution's geometry as the C loops take it.
    static func convWindow(channels: Int, height: Int, width: Int, window w: Window2D, outputHeight oh: Int, outputWidth ow: Int)
        -> galaxy_conv_window
    {
        galaxy_conv_window(
            channels: Int32(channels), height: Int32(height), width: Int32(width), kernel_h: Int32(w.kernelH),
            kernel_w: Int32(w.kernelW), stride_h: Int32(w.strideH), stride_w: Int32(w.strideW), dilation_h: Int32(w.dilationH),
            dilation_w: Int32(w.dilationW), pad_top: Int32(w.padTop), pad_left: Int32(w.padLeft), out_h: Int32(oh),
            out_w: Int32(ow))
    }

    /// Depthwise convolution of one image: output channel `o` reads input channel
    /// `o / multiplier` with its own `kH x kW` filter. Writes `[outChannels, outH, outW]`.
    static func depthwiseConv(
        input: UnsafePointer<Float>, channels: Int, height: Int, width: Int, multiplier: Int,
        weights: UnsafePointer<Float>, window w: Window2D, outputHeight oh: Int, outputWidth ow: Int,
        output: UnsafeMutablePointer<Float>
    ) {
        let taps = w.kernelH * w.kernelW
        for o in 0..<(channels * multiplier) {
            let src = input + (o / multiplier) * height * width
            let filter = weights + o * taps
            let dst = output + o * oh * ow
            for y in 0..<oh {
                for x in 0..<ow {
                    var sum: Float = 0
                    for i in 0..<w.kernelH {
                        let iy = y * w.strideH + i * w.dilationH - w.padTop
                        if iy < 0 || iy >= height { continue }
                        for j in 0..<w.kernelW {
                            let ix = x * w.strideW + j * w.dilationW - w.padLeft
                            if ix < 0 || ix >= width { continue }
                            sum += filter[i * w.kernelW + j] * src[iy * width + ix]
                        }
                    }
                    dst[y * ow + x] = sum
                }
            }
        }
    }
}
