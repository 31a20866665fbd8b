import CGalaxyKernels
import COpenBLAS
import Foundation

/// Compute kernels shared by the engine and the trainer: matrix multiply, convolution lowering,
/// pooling. All matrices are row-major float32; callers own the memory.
public enum Kernels {
    /// Which implementation `sgemm` uses.
    public enum GEMMBackend: String, Sendable, CaseIterable {
        /// The engine's own register-blocked micro-kernels (`galaxy_sgemm` in CGalaxyKernels),
        /// chosen by CPU features like the other C loops. The default: on the engine's small
        /// layer shapes it needs neither OpenBLAS's packing nor its beta pass (docs/engine.md).
        /// Transposed products still go to OpenBLAS.
        case galaxy = "galaxy"
        /// Debian's OpenBLAS (kernels chosen by the CPU model it recognises) for every product.
        case openBLAS = "openblas"
        /// The portable Swift SIMD kernel in this module.
        case swiftSIMD = "swift"
    }

    /// The backend used by `sgemm`: `GALAXY_GEMM=openblas|swift` selects another (for comparison).
    public static let gemmBackend: GEMMBackend = {
        if let text = ProcessInfo.processInfo.environment["GALAXY_GEMM"], let b = GEMMBackend(rawValue: text) {
            return b
        }
        return .galaxy
    }()

    /// `C = alpha * op(A) * op(B) + beta * C`, row-major, where `op(A)` is `m x k` and `op(B)` is
    /// `k x n`. Runs on the calling thread (OpenBLAS's own threads are limited with
    /// `setBLASThreads`).
    /// - Parameters:
    ///   - backend: who multiplies untransposed operands (transposed ones always go to OpenBLAS).
    ///   - transposeA: use `Aᵀ` (A stored `k x m`).
    ///   - transposeB: use `Bᵀ` (B stored `n x k`).
    ///   - lda, ldb, ldc: row strides in elements.
    public static func sgemm(
        backend: GEMMBackend = gemmBackend, transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if !transposeA && !transposeB {
            switch backend {
            case .galaxy:
                galaxy_sgemm(Int32(m), Int32(n), Int32(k), alpha, a, lda, b, ldb, beta, c, ldc)
                return
            case .swiftSIMD:
                SwiftGEMM.multiply(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
                return
            case .openBLAS:
                break
            }
        }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// `C = A · B` with bf16 products and fp32 sums (`galaxy_sgemm_bf16`), on the calling thread:
    /// `a` is `[m][k]` packed by `packBF16Pairs` (row stride `lda` pairs), B `[k][n]` fp32, C only
    /// written.
    public static func sgemmBF16(
        m: Int, n: Int, k: Int, a: UnsafePointer<UInt32>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        galaxy_sgemm_bf16(Int32(m), Int32(n), Int32(k), a, lda, b, ldb, c, ldc)
    }

    /// Row-major `[rows][k]` fp32 as `sgemmBF16`'s A: `bf16PairCount(k)` pairs per row.
    public static func packBF16Pairs(_ a: [Float], rows: Int, k: Int) -> [UInt32] {
        precondition(a.count >= rows * k, "packBF16Pairs: fewer than rows * k values")
        var out = [UInt32](repeating: 0, count: rows * bf16PairCount(k))
        a.withUnsafeBufferPointer { ap in
            out.withUnsafeMutableBufferPointer { galaxy_pack_bf16_pairs(ap.baseAddress!, Int32(rows), Int32(k), k, $0.baseAddress!) }
        }
        return out
    }

    /// bf16 pairs holding `k` values.
    public static func bf16PairCount(_ k: Int) -> Int { (k + 1) / 2 }

    /// Array form of `sgemm` for callers without raw buffers (tests, the trainer's small layers).
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: [Float], b: [Float], beta: Float = 0, c: inout [Float]
    ) {
        precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n, "sgemm: arrays smaller than m*k, k*n, m*n")
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    sgemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                        a: ap.baseAddress!, lda: transposeA ? m : k, b: bp.baseAddress!, ldb: transposeB ? k : n,
                        beta: beta, c: cp.baseAddress!, ldc: n)
                }
            }
        }
    }

    /// The most threads OpenBLAS may use: 1 unless `GALAXY_BLAS_THREADS` says otherwise. Measured
    /// on the 2-core machine, handing a single image's GEMMs to OpenBLAS's spinning threads made
    /// batch 1 slower (about 0.5x-0.9x of one thread), so images are the unit of parallelism.
    static let blasThreadCap: Int = {
        if let text = ProcessInfo.processInfo.environment["GALAXY_BLAS_THREADS"], let n = Int(text), n > 0 { return n }
        return 1
    }()

    private static let blasLock = NSLock()
    nonisolated(unsafe) private static var blasThreads = -1

    /// Sets the threads OpenBLAS may start for one call, capped by `GALAXY_BLAS_THREADS` (default
    /// 1). The engine parallelises over images itself and asks for spare threads only when a batch
    /// is smaller than the thread count. The trainer can call this for its own large GEMMs.
    public static func setBLASThreads(_ count: Int) {
        blasLock.lock()
        defer { blasLock.unlock() }
        let n = max(1, min(count, blasThreadCap))
        if n != blasThreads {
            openblas_set_num_threads(Int32(n))
            blasThreads = n
        }
    }
}

/// A portable register-blocked GEMM with SIMD16 columns (kept for comparison with OpenBLAS).
enum SwiftGEMM {
    static func multiply(
        m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        var n0 = 0
        while n0 < n {
            let width = min(16, n - n0)
            var m0 = 0
            while m0 < m {
                let rows = min(4, m - m0)
                var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>(), acc2 = SIMD16<Float>(), acc3 = SIMD16<Float>()
                let a0 = a + m0 * lda
                let a1 = a0 + (rows > 1 ? lda : 0)
                let a2 = a0 + (rows > 2 ? 2 * lda : 0)
                let a3 = a0 + (rows > 3 ? 3 * lda : 0)
                if width == 16 {
                    for p in 0..<k {
                        let bv = UnsafeRawPointer(b + p * ldb + n0).loadUnaligned(as: SIMD16<Float>.self)
                        acc0 += a0[p] * bv
                        acc1 += a1[p] * bv
                        acc2 += a2[p] * bv
                        acc3 += a3[p] * bv
                    }
                } else {
                    for p in 0..<k {
                        var bv = SIMD16<Float>()
                        let row = b + p * ldb + n0
                        for j in 0..<width { bv[j] = row[j] }
                        acc0 += a0[p] * bv
                        acc1 += a1[p] * bv
                        acc2 += a2[p] * bv
                        acc3 += a3[p] * bv
                    }
                }
                let accs = [acc0, acc1, acc2, acc3]
                for r in 0..<rows {
                    let out = c + (m0 + r) * ldc + n0
                    let v = accs[r]
                    for j in 0..<width {
                        out[j] = alpha * v[j] + (beta == 0 ? 0 : beta * out[j])
                    }
                }
                m0 += 4
            }
            n0 += 16
        }
    }
}
