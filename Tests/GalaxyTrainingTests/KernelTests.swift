import Testing

@testable import GalaxyTraining

@Suite struct KernelTests {
    func naive(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: [Float], b: [Float], c: [Float], beta: Float) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * m + i] : a[i * k + p]
                    let bv = transB ? b[j * k + p] : b[p * n + j]
                    sum += Double(av) * Double(bv)
                }
                out[i * n + j] = Float(sum) + beta * c[i * n + j]
            }
        }
        return out
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmMatchesNaiveProduct(transposes: (Bool, Bool)) {
        var rng = SeededGenerator(seed: 7)
        for (m, n, k) in [(1, 1, 1), (5, 17, 3), (13, 40, 29), (4, 16, 8), (33, 7, 65)] {
            let a = (0..<(m * k)).map { _ in Float(rng.nextUnit() - 0.5) }
            let b = (0..<(k * n)).map { _ in Float(rng.nextUnit() - 0.5) }
            let c = (0..<(m * n)).map { _ in Float(rng.nextUnit() - 0.5) }
            for beta: Float in [0, 1] {
                let expected = naive(transA: transposes.0, transB: transposes.1, m: m, n: n, k: k, a: a, b: b, c: c, beta: beta)
                var got = c
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        got.withUnsafeMutableBufferPointer { cp in
                            MatrixMultiply.gemm(
                                transA: transposes.0, transB: transposes.1, m: m, n: n, k: k,
                                a: ap.baseAddress!, lda: transposes.0 ? m : k, b: bp.baseAddress!,
                                ldb: transposes.1 ? k : n, beta: beta, c: cp.baseAddress!, ldc: n)
                        }
                    }
                }
                for i in 0..<(m * n) {
                    #expect(abs(got[i] - expected[i]) <= 1e-5 * Float(k) + 1e-6, "\(m)x\(n)x\(k) at \(i)")
                }
            }
        }
    }

    /// col2im is the adjoint of im2col: <im2col(x), y> = <x, col2im(y)>.
    @Test func col2imIsTheAdjointOfIm2col() {
        var rng = SeededGenerator(seed: 11)
        let (channels, images, side) = (3, 2, 7)
        let x = (0..<(channels * images * side * side)).map { _ in Float(rng.nextUnit() - 0.5) }
        let colCount = channels * 9 * images * side * side
        let y = (0..<colCount).map { _ in Float(rng.nextUnit() - 0.5) }
        var col = [Float](repeating: 0, count: colCount)
        var back = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            col.withUnsafeMutableBufferPointer { cp in
                LayerKernels.im2col(input: xp.baseAddress!, channels: channels, images: images, side: side, col: cp.baseAddress!)
            }
        }
        y.withUnsafeBufferPointer { yp in
            back.withUnsafeMutableBufferPointer { bp in
                LayerKernels.col2im(col: yp.baseAddress!, channels: channels, images: images, side: side, input: bp.baseAddress!)
            }
        }
        let lhs = zip(col, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(x, back).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(lhs - rhs) <= 1e-4 * max(1, abs(lhs)))
        // Spot-check one unfolded entry: channel 1, ky=0, kx=2 at image 1, pixel (3, 6) reads
        // (2, 7), which is outside, so it is zero; at pixel (3, 4) it reads (2, 5).
        let width = images * side * side
        let row = (1 * 9 + 0 * 3 + 2) * width
        #expect(col[row + side * side + 3 * side + 6] == 0)
        #expect(col[row + side * side + 3 * side + 4] == x[1 * width + side * side + 2 * side + 5])
    }

    @Test func maxPoolPicksWindowMaximaAndFloorsOddSides() {
        let side = 5
        let input: [Float] = (0..<(side * side)).map { Float(($0 * 7) % 11) }
        var output = [Float](repeating: 0, count: 4)
        var argmax = [Int32](repeating: 0, count: 4)
        input.withUnsafeBufferPointer { ip in
            output.withUnsafeMutableBufferPointer { op in
                argmax.withUnsafeMutableBufferPointer { ap in
                    LayerKernels.maxPool(input: ip.baseAddress!, planes: 1, side: side, output: op.baseAddress!, argmax: ap.baseAddress!)
                }
            }
        }
        for y in 0..<2 {
            for x in 0..<2 {
                let window = [(0, 0), (0, 1), (1, 0), (1, 1)].map { input[(2 * y + $0.0) * side + 2 * x + $0.1] }
                #expect(output[y * 2 + x] == window.max()!)
                #expect(input[Int(argmax[y * 2 + x])] == window.max()!)
            }
        }
    }
}
