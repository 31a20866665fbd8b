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
    /// no activation). The transforms run along whole tile rows so the loops are contiguous.
    static func convolve(
        input: UnsafePointer<Float>, images: Int, inChannels: Int, height: Int, width: Int, padTop: Int, padLeft: Int,
        transformedWeights u: UnsafePointer<Float>, outChannels: Int, outHeight oh: Int, outWidth ow: Int,
        scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        let tilesH = tiles(oh), tilesW = tiles(ow)
        let perImage = tilesH * tilesW
        let n = perImage * images
        let v = scratch
        let m = scratch + 16 * inChannels * n
        let rowLength = 2 * tilesW + 2
        let rows = m + 16 * outChannels * n
        let kStride = inChannels * n
        // Input transform: V[k][c][image * tiles + tile] = (Bᵀ d B)[k], one tile row at a time.
        for index in 0..<(images * inChannels) {
            let image = index / inChannels, c = index % inChannels
            let plane = input + index * height * width
            for ty in 0..<tilesH {
                // The 4 input rows this tile row reads, zero-padded to 2*tilesW+2 columns.
                for r in 0..<4 {
                    let dst = rows + r * rowLength
                    let iy = 2 * ty - padTop + r
                    guard iy >= 0 && iy < height else {
                        for x in 0..<rowLength { dst[x] = 0 }
                        continue
                    }
                    // Columns x read input column x - padLeft when that lies in [0, width).
                    let first = min(rowLength, max(0, padLeft))
                    let last = max(first, min(rowLength, width + padLeft))
                    let src = plane + iy * width - padLeft
                    for x in 0..<first { dst[x] = 0 }
                    for x in first..<last { dst[x] = src[x] }
                    for x in last..<rowLength { dst[x] = 0 }
                }
                let r0 = rows, r1 = rows + rowLength, r2 = rows + 2 * rowLength, r3 = rows + 3 * rowLength
                let base = v + c * n + image * perImage + ty * tilesW
                for tx in 0..<tilesW {
                    let x = 2 * tx
                    // Bᵀ d (rows), then · B (columns), for each of the 4 rows of Bᵀ d.
                    let t0 = SIMD4(r0[x] - r2[x], r0[x + 1] - r2[x + 1], r0[x + 2] - r2[x + 2], r0[x + 3] - r2[x + 3])
                    let t1 = SIMD4(r1[x] + r2[x], r1[x + 1] + r2[x + 1], r1[x + 2] + r2[x + 2], r1[x + 3] + r2[x + 3])
                    let t2 = SIMD4(r2[x] - r1[x], r2[x + 1] - r1[x + 1], r2[x + 2] - r1[x + 2], r2[x + 3] - r1[x + 3])
                    let t3 = SIMD4(r1[x] - r3[x], r1[x + 1] - r3[x + 1], r1[x + 2] - r3[x + 2], r1[x + 3] - r3[x + 3])
                    store(t0, base + tx, kStride)
                    store(t1, base + tx + 4 * kStride, kStride)
                    store(t2, base + tx + 8 * kStride, kStride)
                    store(t3, base + tx + 12 * kStride, kStride)
                }
            }
        }
        // 16 GEMMs: M[k] = U[k] · V[k], [outC, inC] x [inC, tiles].
        for k in 0..<16 {
            Kernels.sgemm(
                m: outChannels, n: n, k: inChannels, a: u + k * outChannels * inChannels, lda: inChannels,
                b: UnsafePointer(v + k * kStride), ldb: n, c: m + k * outChannels * n, ldc: n)
        }
        // Output transform: Y = Aᵀ m A, one tile row at a time (M[k] is contiguous along it).
        let mStride = outChannels * n
        for index in 0..<(images * outChannels) {
            let image = index / outChannels, o = index % outChannels
            let out = output + index * oh * ow
            for ty in 0..<tilesH {
                let src = m + o * n + image * perImage + ty * tilesW
                let oy = 2 * ty
                let top = out + oy * ow
                let bottom = oy + 1 < oh ? out + (oy + 1) * ow : nil
                for tx in 0..<tilesW {
                    let p = src + tx
                    var s0 = SIMD4<Float>(), s1 = SIMD4<Float>()
                    for j in 0..<4 {
                        let a = p[j * mStride], b = p[(4 + j) * mStride], c = p[(8 + j) * mStride], d = p[(12 + j) * mStride]
                        s0[j] = a + b + c
                        s1[j] = b - c - d
                    }
                    let ox = 2 * tx
                    top[ox] = s0[0] + s0[1] + s0[2]
                    if ox + 1 < ow { top[ox + 1] = s0[1] - s0[2] - s0[3] }
                    if let bottom {
                        bottom[ox] = s1[0] + s1[1] + s1[2]
                        if ox + 1 < ow { bottom[ox + 1] = s1[1] - s1[2] - s1[3] }
                    }
                }
            }
        }
    }

    /// Writes the four column combinations of one transformed row, `stride` apart.
    @inline(__always)
    private static func store(_ t: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>, _ stride: Int) {
        p[0] = t[0] - t[2]
        p[stride] = t[1] + t[2]
        p[2 * stride] = t[2] - t[1]
        p[3 * stride] = t[1] - t[3]
    }
}
