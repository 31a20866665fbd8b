import GalaxyEngine

/// Row-major single-precision matrix products for the training kernels:
/// `C = alpha * op(A) * op(B) + beta * C`, through the engine's GEMM entry point on OpenBLAS: the
/// trainer's products span whole mini-batches, where OpenBLAS's packing pays for itself, and the
/// engine's unpacked micro-kernels (made for one image's layers) trained no faster (docs/engine.md).
enum MatrixMultiply {
    /// - Parameters:
    ///   - transA: use Aᵀ (A is stored k×m) instead of A (stored m×k).
    ///   - transB: use Bᵀ (B is stored n×k) instead of B (stored k×n).
    @inline(__always)
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        Kernels.sgemm(
            backend: .openBLAS, transposeA: transA, transposeB: transB, m: m, n: n, k: k, alpha: alpha,
            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}
