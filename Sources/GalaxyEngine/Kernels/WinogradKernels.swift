import CGalaxyKernels
import Foundation

/// Winograd F(2x2, 3x3) convolution: each 2x2 output tile costs 16 multiplies per channel pair
/// instead of 36, as 16 independent GEMMs over transformed tiles. Used for 3x3, stride 1,
/// dilation 1, ungrouped convolutions with enough input channels for the GEMMs to be efficient.
enum Winograd {
    /// `GALAXY_WINOGRAD=0` turns the Winograd lowering off (im2col + GEMM everywhere), for comparison.
    static let isEnabled: Bool = ProcessInfo.processInfo.environment["GALAXY_WINOGRAD"] != "0"

    /// Transforms weights `[outC, inC, 3, 3]` into `U[16][outC][inC]` (U = G g Gᵀ).
    static func transformWeights(_ w: [Float], outChannels: Int, inChannels: Int) -> [Float] {
        var u = [Float](repeating: 0, count: 16 * outChannels * inChannels)
        for o in 0..<outChannels {
            for i in 0..<inChannels {
                let g = Array(w[((o * inChannels + i) * 9)..<((o * inChannels + i) * 9 + 9)])
                // G g: 4x3
                var t = [Float](repeating: 0, count: 12)
                for c in 0..<3 {
                    let g0 = g[c], g1 = g[3 + c], g2 = g[6 + c]
                    t[c] = g0
                    t[3 + c] = (g0 + g1 + g2) / 2
                    t[6 + c] = (g0 - g1 + g2) / 2
                    t[9 + c] = g2
                }
                // (G g) Gᵀ: 4x4
                for r in 0..<4 {
                    let a = t[r * 3], b = t[r * 3 + 1], c = t[r * 3 + 2]
                    let row = [a, (a + b + c) / 2, (a - b + c) / 2, c]
                    for k in 0..<4 { u[((r * 4 + k) * outChannels + o) * inChannels + i] = row[k] }
                }
            }
        }
        return u
    }

    /// Tiles along one axis for an output of `length`.
    static func tiles(_ length: Int) -> Int { (length + 1) / 2 }

    /// Images transformed together, so each of the 16 GEMMs has a few hundred columns.
    static func imagesPerPass(outHeight: Int, outWidth: Int) -> Int {
        max(1, 64 / (tiles(outHeight) * tiles(outWidth)))
    }

    /// Scratch floats for `images` images: transformed input, GEMM output and 4 padded rows.
    static func scratchCount(inChannels: Int, outChannels: Int, outHeight: Int, outWidth: Int, images: Int) -> Int {
        16 * (inChannels + outChannels) * tiles(outHeight) * tiles(outWidth) * images + 4 * (2 * tiles(outWidth) + 2)
    }

    /// Convolves `images` images `[inC, h, w]` (back to back) into `[outC, oh, ow]` each (no bias,
    /// no activation), with `transformedWeights` or their bf16 pairs `bf16Weights`, or with `maxPooled` straight into the 2x2, stride-2 max pool of that output,
    /// `[outC, oh / 2, ow / 2]`. The transforms run along whole tile rows so the loops are contiguous.
    static func convolve(
        input: UnsafePointer<Float>, images: Int, inChannels: Int, height: Int, width: Int, padTop: Int, padLeft: Int,
        transformedWeights u: UnsafePointer<Float>, outChannels: Int, outHeight oh: Int, outWidth ow: Int,
        bf16Weights: UnsafePointer<UInt32>? = nil, maxPooled: Bool = false, scratch: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>
    ) {
        let tilesH = tiles(oh), tilesW = tiles(ow)
        let perImage = tilesH * tilesW
        let n = perImage * images
        let v = scratch
        let m = scratch + 16 * inChannels * n
        let rows = m + 16 * outChannels * n
        let kStride = inChannels * n
        // Input transform: V[k][c][image * tiles + tile] = (Bᵀ d B)[k], one plane at a time.
        for index in 0..<(images * inChannels) {
            let image = index / inChannels, c = index % inChannels
            galaxy_winograd_input_plane(
                input + index * height * width, Int32(height), Int32(width), Int32(padTop), Int32(padLeft),
                Int32(tilesH), Int32(tilesW), v + c * n + image * perImage, kStride, rows)
        }
        // 16 GEMMs: M[k] = U[k] · V[k], [outC, inC] x [inC, tiles]; in bf16 products when the
        // weights come as pairs (`bf16Weights`, U packed row by row).
        let pairs = Kernels.bf16PairCount(inChannels)
        for k in 0..<16 {
            if let bf16Weights {
                Kernels.sgemmBF16(
                    m: outChannels, n: n, k: inChannels, a: bf16Weights + k * outChannels * pairs, lda: pairs,
                    b: UnsafePointer(v + k * kStride), ldb: n, c: m + k * outChannels * n, ldc: n)
                continue
            }
            Kernels.sgemm(
                m: outChannels, n: n, k: inChannels, a: u + k * outChannels * inChannels, lda: inChannels,
                b: UnsafePointer(v + k * kStride), ldb: n, c: m + k * outChannels * n, ldc: n)
        }
        // Output transform: Y = Aᵀ m A, one plane at a time (M[k] is contiguous along a tile row).
        if maxPooled {
            let (ph, pw) = (oh / 2, ow / 2)
            for index in 0..<(images * outChannels) {
                let image = index / outChannels, o = index % outChannels
                galaxy_winograd_output_max_pool_plane(
                    m + o * n + image * perImage, outChannels * n, Int32(tilesW), output + index * ph * pw, Int32(ph), Int32(pw))
            }
            return
        }
        for index in 0..<(images * outChannels) {
            let image = index / outChannels, o = index % outChannels
            galaxy_winograd_output_plane(
                m + o * n + image * perImage, outChannels * n, Int32(tilesH), Int32(tilesW),
                output + index * oh * ow, Int32(oh), Int32(ow))
        }
    }
}
