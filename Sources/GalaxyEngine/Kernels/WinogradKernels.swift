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

    /// Scratch floats for one image: transformed input and GEMM output.
    static func scratchCount(inChannels: Int, outChannels: Int, outHeight: Int, outWidth: Int) -> Int {
        16 * (inChannels + outChannels) * tiles(outHeight) * tiles(outWidth)
    }

    /// Convolves one image `[inC, h, w]` into `[outC, oh, ow]` (no bias, no activation).
    static func convolve(
        input x: UnsafePointer<Float>, inChannels: Int, height: Int, width: Int, padTop: Int, padLeft: Int,
        transformedWeights u: UnsafePointer<Float>, outChannels: Int, outHeight oh: Int, outWidth ow: Int,
        scratch: UnsafeMutablePointer<Float>, output y: UnsafeMutablePointer<Float>
    ) {
        let tilesH = tiles(oh), tilesW = tiles(ow)
        let n = tilesH * tilesW
        let v = scratch
        let m = scratch + 16 * inChannels * n
        let kStride = inChannels * n
        // Input transform: V[k][c][tile] = (Bᵀ d B)[k].
        for c in 0..<inChannels {
            let plane = x + c * height * width
            for ty in 0..<tilesH {
                let y0 = 2 * ty - padTop
                for tx in 0..<tilesW {
                    let x0 = 2 * tx - padLeft
                    var d0 = SIMD4<Float>(), d1 = SIMD4<Float>(), d2 = SIMD4<Float>(), d3 = SIMD4<Float>()
                    if y0 >= 0 && y0 + 4 <= height && x0 >= 0 && x0 + 4 <= width {
                        let p = plane + y0 * width + x0
                        d0 = SIMD4(p[0], p[1], p[2], p[3])
                        d1 = SIMD4(p[width], p[width + 1], p[width + 2], p[width + 3])
                        d2 = SIMD4(p[2 * width], p[2 * width + 1], p[2 * width + 2], p[2 * width + 3])
                        d3 = SIMD4(p[3 * width], p[3 * width + 1], p[3 * width + 2], p[3 * width + 3])
                    } else {
                        func load(_ r: Int) -> SIMD4<Float> {
                            var row = SIMD4<Float>()
                            let iy = y0 + r
                            if iy < 0 || iy >= height { return row }
                            for j in 0..<4 {
                                let ix = x0 + j
                                if ix >= 0 && ix < width { row[j] = plane[iy * width + ix] }
                            }
                            return row
                        }
                        d0 = load(0)
                        d1 = load(1)
                        d2 = load(2)
                        d3 = load(3)
                    }
                    // Bᵀ d: rows.
                    let t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3
                    let base = v + c * n + ty * tilesW + tx
                    // (Bᵀ d) B: columns of each row.
                    for (r, t) in [t0, t1, t2, t3].enumerated() {
                        let row = base + (r * 4) * kStride
                        row[0] = t[0] - t[2]
                        row[kStride] = t[1] + t[2]
                        row[2 * kStride] = t[2] - t[1]
                        row[3 * kStride] = t[1] - t[3]
                    }
                }
            }
        }
        // 16 GEMMs: M[k] = U[k] · V[k], [outC, inC] x [inC, tiles].
        for k in 0..<16 {
            Kernels.sgemm(
                m: outChannels, n: n, k: inChannels, a: u + k * outChannels * inChannels, lda: inChannels,
                b: UnsafePointer(v + k * kStride), ldb: n, c: m + k * outChannels * n, ldc: n)
        }
        // Output transform: Y = Aᵀ m A per tile.
        let mStride = outChannels * n
        for o in 0..<outChannels {
            let out = y + o * oh * ow
            for ty in 0..<tilesH {
                for tx in 0..<tilesW {
                    let src = m + o * n + ty * tilesW + tx
                    func row(_ r: Int) -> SIMD4<Float> {
                        SIMD4(src[(r * 4) * mStride], src[(r * 4 + 1) * mStride], src[(r * 4 + 2) * mStride], src[(r * 4 + 3) * mStride])
                    }
                    let m0 = row(0), m1 = row(1), m2 = row(2), m3 = row(3)
                    let s0 = m0 + m1 + m2
                    let s1 = m1 - m2 - m3
                    let oy = 2 * ty, ox = 2 * tx
                    out[oy * ow + ox] = s0[0] + s0[1] + s0[2]
                    if ox + 1 < ow { out[oy * ow + ox + 1] = s0[1] - s0[2] - s0[3] }
                    if oy + 1 < oh {
                        out[(oy + 1) * ow + ox] = s1[0] + s1[1] + s1[2]
                        if ox + 1 < ow { out[(oy + 1) * ow + ox + 1] = s1[1] - s1[2] - s1[3] }
                    }
                }
            }
        }
    }
}
