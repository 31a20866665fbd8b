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

    /// Scratch floats for `images` images: transformed input (fp32, or bf16 pairs in rows padded to
    /// 32 columns), GEMM output, 4 padded rows and, for pairs, the fp32 transform of two planes.
    static func scratchCount(inChannels: Int, outChannels: Int, outHeight: Int, outWidth: Int, images: Int, bf16: Bool = false) -> Int {
        let n = tiles(outHeight) * tiles(outWidth) * images
        let transformed = bf16 ? 16 * Kernels.bf16PairCount(inChannels) * paddedColumns(n) : 16 * inChannels * n
        return transformed + 16 * outChannels * n + 4 * (2 * tiles(outWidth) + 2) + (bf16 ? 32 * n : 0)
    }

    /// bf16 pairs of U `[16][outChannels][pairs]` as 16 sets of row panels (`galaxy_pack_bf16_panels`).
    static func bf16Panels(_ pairs: [UInt32], outChannels: Int, inChannels: Int) -> [UInt32] {
        let count = Kernels.bf16PairCount(inChannels), each = panelCount(outChannels: outChannels, inChannels: inChannels)
        var out = [UInt32](repeating: 0, count: 16 * each)
        pairs.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { o in
                for k in 0..<16 {
                    galaxy_pack_bf16_panels(a.baseAddress! + k * outChannels * count, Int32(outChannels), Int32(count), count, o.baseAddress! + k * each)
                }
            }
        }
        return out
    }

    /// Values of one U[k]'s panels: whole panels of 32 rows, `ceil(inChannels / 2)` pairs each.
    static func panelCount(outChannels: Int, inChannels: Int) -> Int {
        (outChannels + 31) / 32 * Kernels.bf16PairCount(inChannels) * 32
    }

    /// Columns of a row of bf16 pairs: `n` rounded up to the widest GEMM block (32).
    static func paddedColumns(_ n: Int) -> Int { (n + 31) / 32 * 32 }

    /// Convolves `images` images `[inC, h, w]` (back to back) into `[outC, oh, ow]` each (no bias,
    /// no activation), with `transformedWeights` or their bf16 pairs `bf16Weights` (and their row
    /// panels `bf16Panels`), or with `maxPooled` straight into the 2x2, stride-2 max pool of that output,
    /// `[outC, oh / 2, ow / 2]`. The transforms run along whole tile rows so the loops are contiguous.
    static func convolve(
        input: UnsafePointer<Float>, images: Int, inChannels: Int, height: Int, width: Int, padTop: Int, padLeft: Int,
        transformedWeights u: UnsafePointer<Float>, outChannels: Int, outHeight oh: Int, outWidth ow: Int,
        bf16Weights: UnsafePointer<UInt32>? = nil, bf16Panels: UnsafePointer<UInt32>? = nil, maxPooled: Bool = false,
        scratch: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>
    ) {
        let tilesH = tiles(oh), tilesW = tiles(ow)
        let perImage = tilesH * tilesW
        let n = perImage * images
        if let bf16Weights {
            // bf16: the input transform writes pairs of channels straight into the GEMM's packed B.
            let pairs = Kernels.bf16PairCount(inChannels), ldp = paddedColumns(n)
            let m = scratch + 16 * pairs * ldp
            let rows = m + 16 * outChannels * n
            let planeTiles = rows + 4 * (2 * tilesW + 2)
            let kStride = pairs * ldp
            scratch.withMemoryRebound(to: UInt32.self, capacity: 16 * pairs * ldp) { vp in
                if ldp > n {
                    for row in 0..<(16 * pairs) { (vp + row * ldp + n).update(repeating: 0, count: ldp - n) }
                }
                for q in 0..<pairs {
                    let first = input + 2 * q * height * width
                    galaxy_winograd_input_pairs(
                        first, 2 * q + 1 < inChannels ? first + height * width : nil, inChannels * height * width, Int32(images),
                        Int32(height), Int32(width), Int32(padTop), Int32(padLeft), Int32(tilesH), Int32(tilesW), vp + q * ldp,
                        kStride, rows, planeTiles)
                }
                let each = panelCount(outChannels: outChannels, inChannels: inChannels)
                for k in 0..<16 {
                    galaxy_sgemm_bf16_packed(
                        Int32(outChannels), Int32(n), Int32(inChannels), bf16Weights + k * outChannels * pairs, pairs,
                        bf16Panels.map { $0 + k * each }, vp + k * kStride, ldp, m + k * outChannels * n, n)
                }
            }
            outputTransform(m: m, images: images, outChannels: outChannels, tilesH: tilesH, tilesW: tilesW, oh: oh, ow: ow, maxPooled: maxPooled, output: output)
            return
        }
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
        // 16 GEMMs: M[k] = U[k] · V[k], [outC, inC] x [inC, tiles].
        for k in 0..<16 {
            Kernels.sgemm(
                m: outChannels, n: n, k: inChannels, a: u + k * outChannels * inChannels, lda: inChannels,
                b: UnsafePointer(v + k * kStride), ldb: n, c: m + k * outChannels * n, ldc: n)
        }
        outputTransform(m: m, images: images, outChannels: outChannels, tilesH: tilesH, tilesW: tilesW, oh: oh, ow: ow, maxPooled: maxPooled, output: output)
    }

    /// Y = Aᵀ m A, one plane at a time (M[k] is contiguous along a tile row), or its 2x2 max pool.
    private static func outputTransform(
        m: UnsafeMutablePointer<Float>, images: Int, outChannels: Int, tilesH: Int, tilesW: Int, oh: Int, ow: Int, maxPooled: Bool,
        output: UnsafeMutablePointer<Float>
    ) {
        let perImage = tilesH * tilesW
        let n = perImage * images
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
