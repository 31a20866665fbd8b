import CGalaxyKernels

extension Kernels {
    /// Max pooling of `planes` image planes of `height x width`; padding never wins.
    public static func maxPool(
        input: UnsafePointer<Float>, planes: Int, height: Int, width: Int, window w: Window2D,
        outputHeight oh: Int, outputWidth ow: Int, output: UnsafeMutablePointer<Float>
    ) {
        if w.coversAlignedTwoByTwoBlocks(height: height, width: width, outputHeight: oh, outputWidth: ow) {
            galaxy_max_pool_2x2(input, Int32(planes), Int32(height), Int32(width), Int32(oh), Int32(ow), output)
            return
        }
        for p in 0..<planes {
            let src = input + p * height * width
            let dst = output + p * oh * ow
            for y in 0..<oh {
                for x in 0..<ow {
                    var best = -Float.infinity
                    for i in 0..<w.kernelH {
                        let iy = y * w.strideH + i * w.dilationH - w.padTop
                        if iy < 0 || iy >= height { continue }
                        for j in 0..<w.kernelW {
                            let ix = x * w.strideW + j * w.dilationW - w.padLeft
                            if ix < 0 || ix >= width { continue }
                            best = max(best, src[iy * width + ix])
                        }
                    }
                    dst[y * ow + x] = best
                }
            }
        }
    }

    /// Average pooling. With `countIncludePad` the divisor counts padding cells (but not cells
    /// past the padded border that `ceil_mode` windows reach), as onnxruntime does.
    public static func averagePool(
        input: UnsafePointer<Float>, planes: Int, height: Int, width: Int, window w: Window2D,
        countIncludePad: Bool, outputHeight oh: Int, outputWidth ow: Int, output: UnsafeMutablePointer<Float>
    ) {
        for p in 0..<planes {
            let src = input + p * height * width
            let dst = output + p * oh * ow
            for y in 0..<oh {
                for x in 0..<ow {
                    var sum: Float = 0
                    var inside = 0
                    var padded = 0
                    for i in 0..<w.kernelH {
                        let iy = y * w.strideH + i * w.dilationH - w.padTop
                        if iy >= height + w.padBottom { continue }
                        for j in 0..<w.kernelW {
                            let ix = x * w.strideW + j * w.dilationW - w.padLeft
                            if ix >= width + w.padRight { continue }
                            padded += 1
                            if iy < 0 || iy >= height || ix < 0 || ix >= width { continue }
                            sum += src[iy * width + ix]
                            inside += 1
                        }
                    }
                    let divisor = countIncludePad ? padded : inside
                    dst[y * ow + x] = divisor > 0 ? sum / Float(divisor) : 0
                }
            }
        }
    }

    /// Mean of each of `planes` planes of `size` values.
    public static func globalAveragePool(input: UnsafePointer<Float>, planes: Int, size: Int, output: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(size)
        for p in 0..<planes {
            let src = input + p * size
            var sum: Float = 0
            for i in 0..<size { sum += src[i] }
            output[p] = sum * scale
        }
    }
}
