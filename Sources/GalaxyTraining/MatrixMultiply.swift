/// Row-major single-precision matrix products for the training kernels:
/// `C = alpha * op(A) * op(B) + beta * C`, with `op` an optional transpose.
enum MatrixMultiply {
    /// - Parameters:
    ///   - transA: use Aᵀ (A is stored k×m) instead of A (stored m×k).
    ///   - transB: use Bᵀ (B is stored n×k) instead of B (stored k×n).
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            scale(m: m, n: n, beta: beta, c: c, ldc: ldc)
            return
        }
        PortableGEMM.gemm(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    private static func scale(m: Int, n: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n { c[i &* ldc &+ j] = beta == 0 ? 0 : beta * c[i &* ldc &+ j] }
        }
    }
}

/// A plain Swift GEMM (register-blocked, SIMD over columns). Used where no BLAS is reachable and
/// as the reference the tests compare against.
enum PortableGEMM {
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        // Transposed operands are copied into plain row-major panels first.
        var packedA: [Float] = []
        var packedB: [Float] = []
        if transA {
            packedA = [Float](repeating: 0, count: m * k)
            for p in 0..<k { for i in 0..<m { packedA[i * k + p] = a[p &* lda &+ i] } }
        }
        if transB {
            packedB = [Float](repeating: 0, count: k * n)
            for j in 0..<n { for p in 0..<k { packedB[p * n + j] = b[j &* ldb &+ p] } }
        }
        packedA.withUnsafeBufferPointer { pa in
            packedB.withUnsafeBufferPointer { pb in
                let aa = transA ? pa.baseAddress! : a
                let la = transA ? k : lda
                let bb = transB ? pb.baseAddress! : b
                let lb = transB ? n : ldb
                kernelNN(m: m, n: n, k: k, alpha: alpha, a: aa, lda: la, b: bb, ldb: lb, beta: beta, c: c, ldc: ldc)
            }
        }
    }

    private static func kernelNN(
        m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        typealias V = SIMD16<Float>
        let width = V.scalarCount
        var i0 = 0
        while i0 < m {
            let rows = min(4, m &- i0)
            var j0 = 0
            while j0 &+ width <= n {
                var acc0 = V(), acc1 = V(), acc2 = V(), acc3 = V()
                for p in 0..<k {
                    let bv = UnsafeRawPointer(b + (p &* ldb &+ j0)).loadUnaligned(as: V.self)
                    acc0 += a[i0 &* lda &+ p] * bv
                    if rows > 1 { acc1 += a[(i0 &+ 1) &* lda &+ p] * bv }
                    if rows > 2 { acc2 += a[(i0 &+ 2) &* lda &+ p] * bv }
                    if rows > 3 { acc3 += a[(i0 &+ 3) &* lda &+ p] * bv }
                }
                for r in 0..<rows {
                    let dst = UnsafeMutableRawPointer(c + ((i0 &+ r) &* ldc &+ j0))
                    let acc = r == 0 ? acc0 : r == 1 ? acc1 : r == 2 ? acc2 : acc3
                    var value = alpha * acc
                    if beta != 0 { value += beta * dst.loadUnaligned(as: V.self) }
                    dst.storeBytes(of: value, as: V.self)
                }
                j0 &+= width
            }
            while j0 < n {
                for r in 0..<rows {
                    var sum: Float = 0
                    for p in 0..<k { sum += a[(i0 &+ r) &* lda &+ p] * b[p &* ldb &+ j0] }
                    let index = (i0 &+ r) &* ldc &+ j0
                    c[index] = alpha * sum + (beta == 0 ? 0 : beta * c[index])
                }
                j0 &+= 1
            }
            i0 &+= 4
        }
    }
}
