import CGalaxyKernels
import Foundation
import Testing

@testable import GalaxyEngine

/// bf16 products: the GEMM on every path against a double-precision product of the rounded
/// operands, the paths against each other, whole models against fp32, and the metadata that asks
/// for them.
@Suite(.serialized) struct BF16Tests {
    /// fp32 rounded to bf16, to nearest even, as a float.
    static func roundedToBF16(_ x: Float) -> Float {
        let u = x.bitPattern
        return Float(bitPattern: (u &+ 0x7fff &+ ((u >> 16) & 1)) & 0xffff_0000)
    }

    /// Runs the bf16 GEMM of `a` `[m][k]` and `b` `[k][ldb]` into `[m][ldc]` (NaN past column n).
    static func product(m: Int, n: Int, k: Int, a: [Float], b: [Float], ldb: Int, ldc: Int) -> [Float] {
        let packed = Kernels.packBF16Pairs(a, rows: m, k: k)
        var c = [Float](repeating: .nan, count: m * ldc)
        packed.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    Kernels.sgemmBF16(
                        m: m, n: n, k: k, a: ap.baseAddress!, lda: Kernels.bf16PairCount(k), b: bp.baseAddress!, ldb: ldb,
                        c: cp.baseAddress!, ldc: ldc)
                }
            }
        }
        return c
    }

    @Test func everyPathsProductIsTheExactProductOfTheRoundedOperands() {
        var generator = SystemRandomNumberGenerator()
        for (m, n, k) in EngineKernelPathTests.shapes {
            let ldb = n + 3, ldc = n + 2
            let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &generator) }
            let b = (0..<(k * ldb)).map { _ in Float.random(in: -1...1, using: &generator) }
            var reference: [Float]?
            EngineKernelPath.forEachSupported { path in
                let c = Self.product(m: m, n: n, k: k, a: a, b: b, ldb: ldb, ldc: ldc)
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<ldc {
                        guard j < n else {
                            #expect(c[i * ldc + j].isNaN, "path \(path) \(m)x\(n)x\(k): wrote past column \(n) of row \(i)")
                            continue
                        }
                        var exact = 0.0, magnitude = 0.0
                        for p in 0..<k {
                            let term = Double(Self.roundedToBF16(a[i * k + p])) * Double(Self.roundedToBF16(b[p * ldb + j]))
                            exact += term
                            magnitude += abs(term)
                        }
                        let tolerance = 4 * Double(Float.ulpOfOne) * (Double(k) * magnitude + 1)
                        worst = max(worst, abs(Double(c[i * ldc + j]) - exact) / tolerance)
                    }
                }
                #expect(worst <= 1, "path \(path) \(m)x\(n)x\(k): error \(worst)x the tolerance")
                // Each bf16 product is exact in fp32, so every path rounds the same sums the same way.
                if let reference {
                    #expect(
                        zip(c, reference).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) },
                        "path \(path) \(m)x\(n)x\(k) differs from the baseline")
                } else {
                    reference = c
                }
            }
        }
    }

    /// B `[k][n]` as the pairs of rows 2q, 2q + 1 that galaxy_sgemm_bf16_packed reads, rows padded to `ldp`.
    static func pairs(_ b: [Float], k: Int, n: Int, ldb: Int, ldp: Int) -> [UInt32] {
        var out = [UInt32](repeating: 0, count: Kernels.bf16PairCount(k) * ldp)
        for q in 0..<Kernels.bf16PairCount(k) {
            for j in 0..<n {
                let even = roundedToBF16(b[2 * q * ldb + j]).bitPattern >> 16
                let odd = 2 * q + 1 < k ? roundedToBF16(b[(2 * q + 1) * ldb + j]).bitPattern >> 16 : 0
                out[q * ldp + j] = even | odd << 16
            }
        }
        return out
    }

    @Test func aPrepackedBGivesTheSameBitsOnEveryPath() {
        var generator = SystemRandomNumberGenerator()
        for (m, n, k) in EngineKernelPathTests.shapes {
            let ldb = n + 3, ldp = (n + 31) / 32 * 32
            let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &generator) }
            let b = (0..<(k * ldb)).map { _ in Float.random(in: -1...1, using: &generator) }
            let pairs = Kernels.bf16PairCount(k)
            let packedA = Kernels.packBF16Pairs(a, rows: m, k: k)
            var panels = [UInt32](repeating: 0, count: (m + 31) / 32 * pairs * 32)
            galaxy_pack_bf16_panels(packedA, Int32(m), Int32(pairs), pairs, &panels)
            let packedB = Self.pairs(b, k: k, n: n, ldb: ldb, ldp: ldp)
            EngineKernelPath.forEachSupported { path in
                let expected = Self.product(m: m, n: n, k: k, a: a, b: b, ldb: ldb, ldc: n)
                // Without and with A's row panels (the native path's column blocks for narrow tails).
                for usePanels in [false, true] {
                    var c = [Float](repeating: .nan, count: m * n)
                    panels.withUnsafeBufferPointer { p in
                        galaxy_sgemm_bf16_packed(
                            Int32(m), Int32(n), Int32(k), packedA, pairs, usePanels ? p.baseAddress : nil, packedB, ldp, &c, n)
                    }
                    #expect(
                        zip(c, expected).allSatisfy { $0.bitPattern == $1.bitPattern }, "path \(path) \(m)x\(n)x\(k) panels \(usePanels)")
                }
            }
        }
    }

    @Test func theInputTransformWritesTheRoundedPairsOfTwoPlanes() {
        var generator = SystemRandomNumberGenerator()
        for (side, pad) in [(7, 1), (9, 1), (12, 1), (25, 1), (6, 0), (40, 1), (35, 0)] {
            let tiles = (side + 2 * pad - 2 + 1) / 2
            let planes = (0..<(2 * side * side)).map { _ in Float.random(in: -2...2, using: &generator) }
            var rows = [Float](repeating: 0, count: 4 * (2 * tiles + 2))
            var fp32 = [[Float]](repeating: [Float](repeating: 0, count: 16 * tiles * tiles), count: 2)
            for p in 0..<2 {
                galaxy_winograd_input_plane(
                    Array(planes[(p * side * side)...]), Int32(side), Int32(side), Int32(pad), Int32(pad), Int32(tiles), Int32(tiles),
                    &fp32[p], tiles * tiles, &rows)
            }
            EngineKernelPath.forEachSupported { path in
                for both in [true, false] {
                    var planeTiles = [Float](repeating: 0, count: 32 * tiles * tiles)
                    var pairs = [UInt32](repeating: 0xdead_beef, count: 16 * tiles * tiles)
                    planes.withUnsafeBufferPointer { pp in
                        galaxy_winograd_input_pairs(
                            pp.baseAddress!, both ? pp.baseAddress! + side * side : nil, 2 * side * side, 1, Int32(side), Int32(side),
                            Int32(pad), Int32(pad), Int32(tiles), Int32(tiles), &pairs, tiles * tiles, &rows, &planeTiles)
                    }
                    let expected = (0..<(16 * tiles * tiles)).map { i in
                        Self.roundedToBF16(fp32[0][i]).bitPattern >> 16 | (both ? Self.roundedToBF16(fp32[1][i]).bitPattern & 0xffff_0000 : 0)
                    }
                    #expect(pairs == expected, "path \(path), side \(side), pad \(pad), two planes \(both)")
                }
            }
        }
    }

    /// The first layer's pairs straight from the image equal the packed fp32 im2col matrix, for
    /// padding, dilation, a row stride, an odd reduction, rows wider than a vector and a slice of
    /// output rows (a team member's); paths without the loop, and a column stride, decline and
    /// leave the buffer alone.
    @Test func im2colPairsAreThePackedIm2colColumns() {
        var generator = SystemRandomNumberGenerator()
        let cases: [(channels: Int, side: Int, window: Window2D)] = [
            (3, 50, Window2D(kernelH: 3, kernelW: 3, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)),
            (2, 19, Window2D(kernelH: 3, kernelW: 3, padTop: 2, padLeft: 2, padBottom: 2, padRight: 2, dilationH: 2, dilationW: 2)),
            (3, 21, Window2D(kernelH: 5, kernelW: 5, strideH: 2, padTop: 0, padLeft: 3, padBottom: 0, padRight: 3)),
            (1, 7, Window2D(kernelH: 1, kernelW: 3, padLeft: 1, padRight: 1)),
        ]
        for (channels, side, window) in cases {
            let (oh, ow) = window.output(side: side)
            let k = channels * window.kernelH * window.kernelW
            let image = (0..<(channels * side * side)).map { _ in Float.random(in: -2...2, using: &generator) }
            var columns = [Float](repeating: 0, count: k * oh * ow)
            EngineKernelPath.on("baseline") {
                Kernels.im2col(
                    input: image, channels: channels, height: side, width: side, window: window, outputHeight: oh, outputWidth: ow,
                    columns: &columns)
            }
            for rows in [0..<oh, (oh / 3)..<(oh / 3 + oh / 2)] {
                let count = rows.count * ow, ldp = (count + 31) / 32 * 32
                let slice = (0..<k).flatMap { r in columns[(r * oh * ow + rows.lowerBound * ow)...].prefix(count) }
                let expected = Self.pairs(slice, k: k, n: count, ldb: count, ldp: ldp)
                EngineKernelPath.forEachSupported { path in
                    var pairs = [UInt32](repeating: 0xdead_beef, count: Kernels.bf16PairCount(k) * ldp)
                    let wrote = Kernels.im2colBF16Pairs(
                        input: image, channels: channels, height: side, width: side, window: window, outputHeight: oh,
                        outputWidth: ow, rows: rows, pairs: &pairs, ldp: ldp)
                    #expect(wrote == (path == "avx512_bf16"), "path \(path)")
                    let wrong = zip(pairs, expected).filter { wrote ? $0 != $1 : $0 != 0xdead_beef }.count
                    #expect(wrong == 0, "path \(path), \(window), rows \(rows): \(wrong) of \(pairs.count) pairs differ")
                }
            }
        }
        var strided = Window2D(kernelH: 3, kernelW: 3, strideH: 2, strideW: 2)
        strided.padTop = 1
        var untouched = [UInt32](repeating: 7, count: 5 * 64)
        #expect(
            !Kernels.im2colBF16Pairs(
                input: [Float](repeating: 1, count: 9 * 9), channels: 1, height: 9, width: 9, window: strided, outputHeight: 5,
                outputWidth: 4, rows: 0..<5, pairs: &untouched, ldp: 32))
        #expect(untouched.allSatisfy { $0 == 7 })
    }

    @Test func packingRoundsToNearestEvenAndPadsAnOddReduction() {
        // 1 + 2^-8 lies halfway between two bf16 values: it rounds to the even one, 1.
        let a: [Float] = [1 + 0x1p-8, 1 + 3 * 0x1p-8, -2.5]
        let packed = Kernels.packBF16Pairs(a, rows: 1, k: 3)
        #expect(packed.count == 2)
        #expect(packed[0] & 0xffff == Float(1).bitPattern >> 16)
        #expect(packed[0] >> 16 == (1 + 4 * 0x1p-8 as Float).bitPattern >> 16)
        #expect(packed[1] == Float(-2.5).bitPattern >> 16)
    }

    @Test func aBF16ModelRunsTheSameOnEveryPathAndCloseToFP32() throws {
        let proto = TestModels.defaultArchitecture(size: 50)
        let fp32 = try InferenceModel(model: proto)
        let bf16 = try InferenceModel(model: proto, precision: .bf16)
        #expect(fp32.metadata.precision == .fp32 && bf16.metadata.precision == .bf16)
        let input = TestModels.randomImages(4, for: fp32)
        let reference = try EngineKernelPath.on("baseline") { try bf16.run(input, batch: 4, threads: 1) }
        let full = try fp32.run(input, batch: 4, threads: 1)
        // bf16 keeps 8 significant bits: outputs move, but not far.
        let drift = zip(reference, full).map { abs($0 - $1) }.max() ?? .infinity
        #expect(drift > 0 && drift < 0.05, "bf16 against fp32: \(drift)")
        try EngineKernelPath.forEachSupported { path in
            let output = try bf16.run(input, batch: 4, threads: 1)
            // The convolutions agree bit for bit; the fp32 dense layers differ in FMA rounding.
            let difference = zip(output, reference).map { abs($0 - $1) }.max() ?? .infinity
            #expect(difference <= 1e-5, "path \(path): \(difference)")
        }
    }

    /// Odd channel counts: the last pair of a Winograd layer's input channels has no odd half,
    /// and an im2col reduction (17 * 9) is odd too.
    @Test func oddChannelCountsRunInBF16CloseToFP32() throws {
        var inits: [ONNX.TensorProto] = []
        var nodes: [ONNX.NodeProto] = []
        var current = "x", channels = 3
        for (i, out) in [17, 19].enumerated() {
            let fanIn = Float(channels * 9)
            inits.append(ONNX.TensorProto(name: "w\(i)", dims: [out, channels, 3, 3], floats: TestModels.values(out * channels * 9, seed: 40 + UInt64(i)).map { $0 / fanIn.squareRoot() }))
            inits.append(ONNX.TensorProto(name: "b\(i)", dims: [out], floats: TestModels.values(out, seed: 50 + UInt64(i)).map { $0 * 0.1 }))
            nodes.append(ONNX.NodeProto(opType: "Conv", inputs: [current, "w\(i)", "b\(i)"], outputs: ["c\(i)"], attributes: [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1])]))
            nodes.append(ONNX.NodeProto(opType: "Relu", inputs: ["c\(i)"], outputs: ["r\(i)"]))
            current = "r\(i)"
            channels = out
        }
        nodes.append(ONNX.NodeProto(opType: "GlobalAveragePool", inputs: [current], outputs: ["g"]))
        nodes.append(ONNX.NodeProto(opType: "Flatten", inputs: ["g"], outputs: ["y"]))
        let proto = TestModels.model(size: 13, nodes: nodes, initializers: inits, output: "y", outputCount: 19)
        let fp32 = try InferenceModel(model: proto)
        let bf16 = try InferenceModel(model: proto, precision: .bf16)
        let input = TestModels.randomImages(3, for: fp32)
        let reference = try EngineKernelPath.on("baseline") { try bf16.run(input, batch: 3, threads: 1) }
        let full = try fp32.run(input, batch: 3, threads: 1)
        let scale = full.map { abs($0) }.max() ?? 1
        let drift = zip(reference, full).map { abs($0 - $1) }.max() ?? .infinity
        #expect(drift > 0 && drift < 0.02 * scale, "bf16 against fp32: \(drift) of \(scale)")
        try EngineKernelPath.forEachSupported { path in
            let output = try bf16.run(input, batch: 3, threads: 1)
            #expect(zip(output, reference).allSatisfy { $0.bitPattern == $1.bitPattern }, "path \(path)")
        }
    }

    @Test func theModelsMetadataChoosesThePrecision() throws {
        let proto = TestModels.defaultArchitecture(size: 16)
        let bytes = ONNX.appendingMetadata(
            [.init(key: ModelMetadata.Key.precision, value: "bf16"), .init(key: ModelMetadata.Key.precisionCheck, value: "{}")],
            to: proto.serialized())
        let model = try InferenceModel(onnx: bytes)
        #expect(model.metadata.precision == .bf16 && model.metadata.precisionCheck == "{}")
        #expect(try InferenceModel(model: proto).metadata.precision == .fp32)
        // A later entry overrides an earlier one, so a variant can be turned back.
        let back = ONNX.appendingMetadata([.init(key: ModelMetadata.Key.precision, value: "fp32")], to: bytes)
        #expect(try InferenceModel(onnx: back).metadata.precision == .fp32)
        let wrong = ONNX.appendingMetadata([.init(key: ModelMetadata.Key.precision, value: "int4")], to: proto.serialized())
        #expect(throws: ModelError.self) { try InferenceModel(onnx: wrong) }
        do {
            _ = try InferenceModel(onnx: wrong)
        } catch {
            #expect(error.description.contains("galaxy.precision") && error.description.contains("int4"), "\(error)")
        }
    }
}
