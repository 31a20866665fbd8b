import CGalaxyKernels
import Foundation
import GalaxyTestSupport
import Testing

@testable import GalaxyEngine

/// Kernel paths come from this machine's features, and a slow OpenBLAS core is never silent.
@Suite struct KernelPathsTests {
    static func features(avx2: Bool, avx512: Bool) -> CPUFeatures {
        var f = CPUFeatures()
        f.avx2 = avx2
        f.fma = avx2
        f.osSavesAVX = avx2
        f.avx512f = avx512
        f.avx512bw = avx512
        f.avx512vl = avx512
        f.osSavesAVX512 = avx512
        return f
    }

    @Test func featuresAgreeWithWhatTheKernelReports() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flagsLine = try #require(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(flagsLine.split(separator: ":")[1].split(separator: " ").map(String.init))
        let f = CPUFeatures.current
        #expect(Set(f.names).isSubset(of: flags), "\(f.names) vs \(flags.sorted())")
        #expect(f.avx2 == flags.contains("avx2") && f.fma == flags.contains("fma"))
        #expect(f.avx512f == flags.contains("avx512f"))
        let paths = KernelPaths.current()
        #expect(EngineKernelPath.supported.contains(paths.engineKernels))
        #expect(EngineKernelPath.supported.contains("avx2") == f.hasAVX2)
        #expect(EngineKernelPath.supported.contains("avx512") == f.hasAVX512)
        #expect(!paths.openBLASCore.isEmpty && paths.openBLASConfig.contains("OpenBLAS"))
        #expect(paths.summary.contains(paths.openBLASCore) && paths.summary.contains(paths.cpu))
    }

    @Test func aCoreWithoutAVX2OnAnAVX512CPUIsReplacedBySkylakeX() {
        let avx512 = Self.features(avx2: true, avx512: true)
        #expect(OpenBLASCoreChoice.betterCore(openBLASCore: "Prescott", features: avx512, environment: [:]) == "SkylakeX")
        #expect(
            OpenBLASCoreChoice.betterCore(openBLASCore: "Core2", features: Self.features(avx2: true, avx512: false), environment: [:])
                == "Haswell")
        // What OpenBLAS knows stays; a user's choice stays; one restart at most.
        #expect(OpenBLASCoreChoice.betterCore(openBLASCore: "SkylakeX", features: avx512, environment: [:]) == nil)
        #expect(OpenBLASCoreChoice.betterCore(openBLASCore: "Zen", features: avx512, environment: [:]) == nil)
        #expect(
            OpenBLASCoreChoice.betterCore(openBLASCore: "Prescott", features: avx512, environment: ["OPENBLAS_CORETYPE": "Prescott"])
                == nil)
        #expect(
            OpenBLASCoreChoice.betterCore(openBLASCore: "Prescott", features: avx512, environment: ["GALAXY_OPENBLAS_PICKED": "Prescott"])
                == nil)
        // A CPU without AVX2 has nothing better to run.
        #expect(OpenBLASCoreChoice.betterCore(openBLASCore: "Prescott", features: CPUFeatures(), environment: [:]) == nil)
    }

    @Test func aSlowCoreWarnsWithWhatToDo() {
        let avx512 = Self.features(avx2: true, avx512: true)
        let forced = KernelPaths.warnings(features: avx512, openBLASCore: "Prescott", forcedCore: "Prescott")
        #expect(forced.count == 1 && forced[0].contains("AVX-512") && forced[0].contains("OPENBLAS_CORETYPE=SkylakeX"))
        let unknown = KernelPaths.warnings(features: avx512, openBLASCore: "Prescott", forcedCore: nil)
        #expect(unknown.count == 1 && unknown[0].contains("does not know the CPU"))
        #expect(KernelPaths.warnings(features: avx512, openBLASCore: "SkylakeX", forcedCore: nil).isEmpty)
        #expect(KernelPaths.warnings(features: CPUFeatures(), openBLASCore: "Prescott", forcedCore: nil).isEmpty)
    }

    @Test func doctorNamesTheCPUAndWarnsAboutAForcedSlowCore() throws {
        let galaxy = try BuiltProducts.galaxy()
        let plain = try ChildProcess.run(galaxy, ["doctor"], timeout: 120)
        #expect(plain.status == 0, "\(plain.error)")
        #expect(plain.output.contains("CPU:") && plain.output.contains("OpenBLAS core:"))
        #expect(plain.output.contains("a single image shared by the threads or on one, whichever"), "\(plain.output)")
        let alone = try ChildProcess.run(galaxy, ["doctor"], environment: ["GALAXY_THREADS": "3", "GALAXY_TEAM": "0"], timeout: 120)
        #expect(alone.output.contains("threads:           3 (GALAXY_THREADS, else every core); a single image on one thread (GALAXY_TEAM=0)"), "\(alone.output)")
        guard CPUFeatures.current.hasAVX2 else { return }
        let forced = try ChildProcess.run(galaxy, ["doctor"], environment: ["OPENBLAS_CORETYPE": "Prescott"], timeout: 120)
        #expect(forced.status == 0)
        #expect(forced.output.contains("OpenBLAS core:     Prescott (OPENBLAS_CORETYPE)"), "\(forced.output)")
        #expect(forced.output.contains("warning: OpenBLAS runs its Prescott kernels"), "\(forced.output)")
    }
}

/// Every instruction set this CPU can run, forced in turn as `GALAXY_KERNELS` would: the GEMM
/// against a double-precision product, the whole model against the baseline path.
@Suite(.serialized) struct EngineKernelPathTests {
    /// Shapes that hit every edge of the blocking: narrow and wide column tails, rows past the
    /// micro-kernel's, more rows than one A block (120) and a reduction longer than one B panel (256).
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (5, 3, 7), (6, 8, 3), (7, 16, 9), (8, 32, 9), (9, 33, 17), (48, 169, 24), (96, 36, 48),
        (192, 63, 96), (24, 250, 27), (13, 37, 300), (130, 47, 5), (121, 17, 513), (192, 9, 96), (33, 44, 520),
        (1, 128, 2304), (1, 45, 300),
    ]

    /// A single row (a dense layer on one image) runs on one-row tiles: each of its values must be
    /// bit for bit the same row's value in a product of many rows, so that an image's result does
    /// not depend on the batch it came in.
    @Test func everyPathsOneRowProductEqualsThatRowOfAManyRowProduct() throws {
        try #require(Kernels.gemmBackend == .galaxy, "GALAXY_GEMM selects another backend")
        var generator = SystemRandomNumberGenerator()
        EngineKernelPath.forEachSupported { path in
            for (m, n, k) in [(9, 128, 2304), (8, 45, 300), (3, 13, 128)] {
                let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &generator) }
                let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &generator) }
                var all = [Float](repeating: 0, count: m * n)
                var row = [Float](repeating: 0, count: n)
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        all.withUnsafeMutableBufferPointer { cp in
                            Kernels.sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
                        }
                        for i in 0..<m {
                            row.withUnsafeMutableBufferPointer { cp in
                                Kernels.sgemm(
                                    m: 1, n: n, k: k, a: ap.baseAddress! + i * k, lda: k, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!,
                                    ldc: n)
                            }
                            let same = (0..<n).allSatisfy { row[$0].bitPattern == all[i * n + $0].bitPattern }
                            #expect(same, "path \(path) \(m)x\(n)x\(k): row \(i) alone differs from the same row among \(m)")
                        }
                    }
                }
            }
        }
    }

    /// A narrow last block computed from A's row panels (vectorised over rows on the AVX-512 paths)
    /// gives the bits of the row tiles, and writes nothing past its columns or rows.
    @Test func everyPathsProductFromRowPanelsEqualsThePlainProduct() throws {
        try #require(Kernels.gemmBackend == .galaxy, "GALAXY_GEMM selects another backend")
        var generator = SystemRandomNumberGenerator()
        EngineKernelPath.forEachSupported { path in
            let shapes = [(64, 36, 64), (192, 9, 96), (48, 169, 24), (13, 12, 27), (96, 108, 48), (33, 1, 7), (40, 45, 256), (8, 64, 16), (5, 20, 300)]
            for (m, n, k) in shapes {
                let ldc = n + 3
                let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &generator) }
                let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &generator) }
                var panels = [Float](repeating: .nan, count: (m + 31) / 32 * k * 32)
                galaxy_pack_panels(a, Int32(m), Int32(k), k, &panels)
                var plain = [Float](repeating: .nan, count: m * ldc)
                var fromPanels = plain
                galaxy_sgemm(Int32(m), Int32(n), Int32(k), 1, a, k, b, n, 0, &plain, ldc)
                galaxy_sgemm_panels(Int32(m), Int32(n), Int32(k), a, k, panels, b, n, &fromPanels, ldc)
                let same = zip(plain, fromPanels).allSatisfy { $0.bitPattern == $1.bitPattern }
                #expect(same, "path \(path) \(m)x\(n)x\(k): the product from row panels differs")
                let untouched = (0..<m).allSatisfy { i in fromPanels[(i * ldc + n)..<((i + 1) * ldc)].allSatisfy(\.isNaN) }
                #expect(untouched, "path \(path) \(m)x\(n)x\(k): wrote past column \(n)")
            }
        }
    }

    @Test func everyPathsGEMMMatchesADoublePrecisionProduct() throws {
        try #require(Kernels.gemmBackend == .galaxy, "GALAXY_GEMM selects another backend")
        var generator = SystemRandomNumberGenerator()
        EngineKernelPath.forEachSupported { path in
            for (m, n, k) in Self.shapes {
                for (alpha, beta) in [(Float(1), Float(0)), (0.5, 2)] {
                    // Row strides wider than the matrices: the product must stay inside its rows.
                    let lda = k + 3, ldb = n + 5, ldc = n + 2
                    let a = (0..<(m * lda)).map { _ in Float.random(in: -1...1, using: &generator) }
                    let b = (0..<(k * ldb)).map { _ in Float.random(in: -1...1, using: &generator) }
                    let before = (0..<(m * ldc)).map { _ in Float.random(in: -1...1, using: &generator) }
                    // With beta 0 the output is only written: NaN there must not leak through.
                    var c = beta == 0 ? [Float](repeating: .nan, count: m * ldc) : before
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer { cp in
                                Kernels.sgemm(
                                    m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!,
                                    ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: ldc)
                            }
                        }
                    }
                    var worst = 0.0
                    for i in 0..<m {
                        for j in 0..<ldc {
                            let got = Double(c[i * ldc + j])
                            guard j < n else {
                                let untouched = beta == 0 ? got.isNaN : got == Double(before[i * ldc + j])
                                #expect(untouched, "path \(path) \(m)x\(n)x\(k): wrote past column \(n) of row \(i)")
                                continue
                            }
                            var exact = 0.0, magnitude = 0.0
                            for p in 0..<k {
                                let term = Double(a[i * lda + p]) * Double(b[p * ldb + j])
                                exact += term
                                magnitude += abs(term)
                            }
                            let old = beta == 0 ? 0 : Double(before[i * ldc + j])
                            let expected = Double(alpha) * exact + Double(beta) * old
                            // Float32 accumulation: a few ulps per term of the sum of magnitudes.
                            let tolerance = 4 * Double(Float.ulpOfOne) * (Double(k) * magnitude + abs(Double(beta) * old) + 1)
                            worst = max(worst, abs(got - expected) / tolerance)
                        }
                    }
                    #expect(worst <= 1, "path \(path) \(m)x\(n)x\(k) alpha \(alpha) beta \(beta): error \(worst)x the tolerance")
                }
            }
        }
    }

    /// The Winograd input transform only adds and subtracts: every path gives the baseline's bits,
    /// for rows shorter and longer than a vector, odd tile rows and both paddings.
    @Test func everyPathsInputTransformEqualsTheBaselines() {
        var generator = SystemRandomNumberGenerator()
        for (side, pad) in [(6, 0), (7, 1), (9, 1), (12, 1), (25, 1), (35, 0), (40, 1), (11, 2)] {
            let tiles = (side + 2 * pad - 2 + 1) / 2
            let plane = (0..<(side * side)).map { _ in Float.random(in: -2...2, using: &generator) }
            var rows = [Float](repeating: 0, count: 4 * (2 * tiles + 2))
            func transform() -> [Float] {
                // Values k of the tiles 3 columns apart, as in a product's B with other images' tiles between.
                let stride = tiles * tiles + 3
                var v = [Float](repeating: .nan, count: 16 * stride)
                galaxy_winograd_input_plane(
                    plane, Int32(side), Int32(side), Int32(pad), Int32(pad), Int32(tiles), Int32(tiles), &v, stride, &rows)
                return v
            }
            let reference = EngineKernelPath.on("baseline") { transform() }
            EngineKernelPath.forEachSupported { path in
                let v = transform()
                let wrong = zip(v, reference).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(wrong == 0, "path \(path), side \(side), pad \(pad): \(wrong) values differ")
            }
        }
    }

    /// im2col copies: every path writes the baseline's columns, for padding, dilation, strides
    /// (a column stride runs the plain loop everywhere), and a slice of output rows (a team
    /// member's), leaving the other rows' columns alone.
    @Test func everyPathsIm2colEqualsTheBaselines() {
        var generator = SystemRandomNumberGenerator()
        let windows = [
            Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
            Window2D(kernelH: 3, kernelW: 3, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, dilationH: 2, dilationW: 2),
            Window2D(kernelH: 5, kernelW: 5, strideH: 2, padTop: 0, padLeft: 3, padBottom: 0, padRight: 3),
            Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        ]
        for (channels, side) in [(3, 50), (2, 19), (1, 7)] {
            let image = (0..<(channels * side * side)).map { _ in Float.random(in: -2...2, using: &generator) }
            for window in windows {
                let (oh, ow) = window.output(side: side)
                let k = channels * window.kernelH * window.kernelW
                for rows in [0..<oh, (oh / 3)..<(oh / 3 + oh / 2)] {
                    func columns() -> [Float] {
                        var out = [Float](repeating: .nan, count: k * oh * ow)
                        Kernels.im2col(
                            input: image, channels: channels, height: side, width: side, window: window, outputHeight: oh,
                            outputWidth: ow, columns: &out, outputRows: rows)
                        return out
                    }
                    let reference = EngineKernelPath.on("baseline") { columns() }
                    EngineKernelPath.forEachSupported { path in
                        let wrong = zip(columns(), reference).filter { $0.bitPattern != $1.bitPattern }.count
                        #expect(wrong == 0, "path \(path), \(channels)x\(side), \(window), rows \(rows): \(wrong) values differ")
                    }
                }
            }
        }
    }

    @Test func everyPathThisCPURunsMatchesTheBaseline() throws {
        let model = try InferenceModel(model: TestModels.defaultArchitecture(size: 50))
        let input = TestModels.randomImages(4, for: model)
        let reference = try EngineKernelPath.on("baseline") { try model.run(input, batch: 4, threads: 1) }
        try EngineKernelPath.forEachSupported { path in
            #expect(EngineKernelPath.current == path)
            let output = try model.run(input, batch: 4, threads: 1)
            // Only the GEMM's rounding differs (fused multiply-adds); the other loops are exact.
            let difference = zip(output, reference).map { abs($0 - $1) }.max() ?? .infinity
            #expect(output.count == reference.count && difference <= 1e-5, "path \(path): \(difference)")
        }
        #expect(!EngineKernelPath.use("sse9"))
        for path in EngineKernelPath.all where !EngineKernelPath.supported.contains(path) {
            #expect(!EngineKernelPath.use(path), "\(path) is not runnable here")
        }
    }

    @Test func aRequestThisCPUCannotRunIsNamedByDoctor() throws {
        let galaxy = try BuiltProducts.galaxy()
        let unsupported = EngineKernelPath.all.first { !EngineKernelPath.supported.contains($0) }
        let forced = try ChildProcess.run(galaxy, ["doctor"], environment: ["GALAXY_KERNELS": "baseline"], timeout: 120)
        #expect(forced.output.contains("GEMM, Winograd transforms and pooling: baseline (GALAXY_KERNELS)"), "\(forced.output)")
        guard let unsupported else { return }
        let refused = try ChildProcess.run(galaxy, ["doctor"], environment: ["GALAXY_KERNELS": unsupported], timeout: 120)
        #expect(refused.output.contains("GALAXY_KERNELS=\(unsupported) names kernels this CPU cannot run"), "\(refused.output)")
    }
}
