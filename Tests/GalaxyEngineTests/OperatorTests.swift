import Testing

@testable import GalaxyEngine

/// Each operator against values computed by hand (or by a naive loop written out in the test).
@Suite struct OperatorTests {
    /// Input `[1,3,s,s]` filled with 0, 1, 2, ... per position.
    static func ramp(_ s: Int) -> [Float] { (0..<(3 * s * s)).map(Float.init) }

    static func run(_ model: ONNX.ModelProto, _ input: [Float], batch: Int = 1) throws -> [Float] {
        try InferenceModel(model: model).run(input, batch: batch, threads: 1)
    }

    static func expectClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        for (x, y) in zip(a, b) where abs(x - y) > tolerance * max(1, abs(y)) {
            Issue.record("\(a) differs from \(b) (tolerance \(tolerance))", sourceLocation: sourceLocation)
            return
        }
    }

    @Test func convWithPaddingMatchesHandComputedSums() throws {
        // One output channel, weights all 1 on channel 0 only, 3x3 pad 1 on a 2x2 image:
        // every output is the sum of channel 0 (0+1+2+3 = 6) since the 3x3 window covers it all.
        var w = [Float](repeating: 0, count: 27)
        for i in 0..<9 { w[i] = 1 }
        let model = TestModels.flattened(
            size: 2,
            nodes: [ONNX.NodeProto(opType: "Conv", inputs: ["x", "w", "b"], outputs: ["body_out"], attributes: [.ints("pads", [1, 1, 1, 1])])],
            initializers: [ONNX.TensorProto(name: "w", dims: [1, 3, 3, 3], floats: w), ONNX.TensorProto(name: "b", dims: [1], floats: [0.5])])
        Self.expectClose(try Self.run(model, Self.ramp(2)), [6.5, 6.5, 6.5, 6.5])
    }

    @Test func convStridesDilationsAndAutoPad() throws {
        // 1x1 weights of 1 on channel 1 select channel 1 (values 16...31 on a 4x4 image).
        var w = [Float](repeating: 0, count: 3)
        w[1] = 1
        let weights = [ONNX.TensorProto(name: "w", dims: [1, 3, 1, 1], floats: w)]
        let strided = TestModels.flattened(
            nodes: [ONNX.NodeProto(opType: "Conv", inputs: ["x", "w"], outputs: ["body_out"], attributes: [.ints("strides", [2, 2])])],
            initializers: weights)
        Self.expectClose(try Self.run(strided, Self.ramp(4)), [16, 18, 24, 26])

        // 2x2 kernel of ones on channel 0, dilation 2, VALID: windows {0,2,8,10}, {1,3,9,11}, ...
        var w2 = [Float](repeating: 0, count: 12)
        for i in 0..<4 { w2[i] = 1 }
        let dilated = TestModels.flattened(
            nodes: [ONNX.NodeProto(opType: "Conv", inputs: ["x", "w"], outputs: ["body_out"], attributes: [.ints("dilations", [2, 2]), .string("auto_pad", "VALID")])],
            initializers: [ONNX.TensorProto(name: "w", dims: [1, 3, 2, 2], floats: w2)])
        Self.expectClose(try Self.run(dilated, Self.ramp(4)), [20, 24, 36, 40])

        // SAME_UPPER with stride 2 and a 2x2 kernel on 4x4: total pad 0, output 2x2, windows
        // {0,1,4,5}, {2,3,6,7}, ...; SAME_LOWER identical here since the total padding is 0.
        for mode in ["SAME_UPPER", "SAME_LOWER"] {
            let same = TestModels.flattened(
                nodes: [ONNX.NodeProto(opType: "Conv", inputs: ["x", "w"], outputs: ["body_out"], attributes: [.ints("strides", [2, 2]), .string("auto_pad", mode)])],
                initializers: [ONNX.TensorProto(name: "w", dims: [1, 3, 2, 2], floats: w2)])
            Self.expectClose(try Self.run(same, Self.ramp(4)), [10, 18, 42, 50])
        }
        // SAME_UPPER with a 2x2 kernel, stride 1 on 2x2: pad 1 at the end; SAME_LOWER at the start.
        let upper = TestModels.flattened(
            size: 2, nodes: [ONNX.NodeProto(opType: "Conv", inputs: ["x", "w"], outputs: ["body_out"], attributes: [.string("auto_pad", "SAME_UPPER")])],
            initializers: [ONNX.TensorProto(name: "w", dims: [1, 3, 2, 2], floats: w2)])
        Self.expectClose(try Self.run(upper, Self.ramp(2)), [6, 4, 5, 3])
        let lower = TestModels.flattened(
            size: 2, nodes: [ONNX.NodeProto(opType: "Conv", inputs: ["x", "w"], outputs: ["body_out"], attributes: [.string("auto_pad", "SAME_LOWER")])],
            initializers: [ONNX.TensorProto(name: "w", dims: [1, 3, 2, 2], floats: w2)])
        Self.expectClose(try Self.run(lower, Self.ramp(2)), [0, 1, 2, 6])
    }

    @Test func depthwiseAndGroupedConv() throws {
        // Depthwise 1x1 with per-channel scales 1, 2, 3: each channel scaled.
        let depthwise = TestModels.flattened(
            size: 1,
            nodes: [ONNX.NodeProto(opType: "Conv", inputs: ["x", "w"], outputs: ["body_out"], attributes: [.int("group", 3)])],
            initializers: [ONNX.TensorProto(name: "w", dims: [3, 1, 1, 1], floats: [1, 2, 3])])
        Self.expectClose(try Self.run(depthwise, [1, 1, 1]), [1, 2, 3])
        // Depthwise 3x3 pad 1 of ones on a 2x2 image: each output is its channel's sum.
        let dw3 = TestModels.flattened(
            size: 2,
            nodes: [ONNX.NodeProto(opType: "Conv", inputs: ["x", "w"], outputs: ["body_out"], attributes: [.int("group", 3), .ints("pads", [1, 1, 1, 1])])],
            initializers: [ONNX.TensorProto(name: "w", dims: [3, 1, 3, 3], floats: [Float](repeating: 1, count: 27))])
        Self.expectClose(try Self.run(dw3, Self.ramp(2)), [6, 6, 6, 6, 22, 22, 22, 22, 38, 38, 38, 38])
        // Channel multiplier 2: outputs 2c and 2c+1 read channel c.
        let multiplier = TestModels.flattened(
            size: 1,
            nodes: [ONNX.NodeProto(opType: "Conv", inputs: ["x", "w"], outputs: ["body_out"], attributes: [.int("group", 3)])],
            initializers: [ONNX.TensorProto(name: "w", dims: [6, 1, 1, 1], floats: [1, -1, 2, -2, 3, -3])])
        Self.expectClose(try Self.run(multiplier, [1, 10, 100]), [1, -1, 20, -20, 300, -300])
    }

    @Test func batchNormFoldedIntoConvEqualsStandalone() throws {
        let bn: [ONNX.TensorProto] = [
            ONNX.TensorProto(name: "s", dims: [3], floats: [1, 2, 0.5]), ONNX.TensorProto(name: "bb", dims: [3], floats: [0, 1, -1]),
            ONNX.TensorProto(name: "m", dims: [3], floats: [1, 2, 3]), ONNX.TensorProto(name: "v", dims: [3], floats: [4, 1, 0.25]),
        ]
        let standalone = TestModels.flattened(
            size: 1, nodes: [ONNX.NodeProto(opType: "BatchNormalization", inputs: ["x", "s", "bb", "m", "v"], outputs: ["body_out"], attributes: [.float("epsilon", 0)])],
            initializers: bn)
        // (x - mean) / sqrt(var) * scale + B with x = 3, 4, 5.
        Self.expectClose(try Self.run(standalone, [3, 4, 5]), [1, 5, 1])
        let identity = [ONNX.TensorProto(name: "w", dims: [3, 3, 1, 1], floats: [1, 0, 0, 0, 1, 0, 0, 0, 1])]
        let folded = TestModels.flattened(
            size: 1,
            nodes: [
                ONNX.NodeProto(opType: "Conv", inputs: ["x", "w"], outputs: ["c"]),
                ONNX.NodeProto(opType: "BatchNormalization", inputs: ["c", "s", "bb", "m", "v"], outputs: ["body_out"], attributes: [.float("epsilon", 0)]),
            ], initializers: identity + bn)
        Self.expectClose(try Self.run(folded, [3, 4, 5]), [1, 5, 1])
    }

    @Test func activations() throws {
        let input: [Float] = [-2, -0.5, 0, 0.5, 1, 3, -1, 2, 10, -10, 0.25, -0.25]
        func act(_ op: String, _ attrs: [ONNX.AttributeProto] = []) throws -> [Float] {
            try Self.run(TestModels.flattened(size: 2, nodes: [ONNX.NodeProto(opType: op, inputs: ["x"], outputs: ["body_out"], attributes: attrs)]), input)
        }
        Self.expectClose(try act("Relu"), input.map { max($0, 0) })
        Self.expectClose(try act("LeakyRelu", [.float("alpha", 0.1)]), input.map { $0 < 0 ? 0.1 * $0 : $0 })
        Self.expectClose(try act("LeakyRelu"), input.map { $0 < 0 ? 0.01 * $0 : $0 })
        Self.expectClose(try act("Sigmoid"), [0.11920292, 0.37754067, 0.5, 0.62245933, 0.7310586, 0.95257413, 0.26894142, 0.8807971, 0.9999546, 4.539787e-05, 0.5621765, 0.4378235])
        Self.expectClose(try act("Tanh"), [-0.9640276, -0.46211717, 0, 0.46211717, 0.7615942, 0.9950548, -0.7615942, 0.9640276, 1, -1, 0.24491866, -0.24491866])
    }

    @Test func pooling() throws {
        func pool(_ op: String, _ attrs: [ONNX.AttributeProto], size: Int = 4) throws -> [Float] {
            try Self.run(TestModels.flattened(size: size, nodes: [ONNX.NodeProto(opType: op, inputs: ["x"], outputs: ["body_out"], attributes: attrs)]), Self.ramp(size))
        }
        // Channel 0 of the 4x4 ramp: rows 0-3, 4-7, 8-11, 12-15.
        let max2 = try pool("MaxPool", [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])])
        Self.expectClose(Array(max2[0..<4]), [5, 7, 13, 15])
        let avg2 = try pool("AveragePool", [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])])
        Self.expectClose(Array(avg2[0..<4]), [2.5, 4.5, 10.5, 12.5])
        // 3x3 stride 2 pad 1: first window covers 0,1,4,5 (4 cells inside, 9 with padding).
        let excl = try pool("AveragePool", [.ints("kernel_shape", [3, 3]), .ints("strides", [2, 2]), .ints("pads", [1, 1, 1, 1])])
        #expect(abs(excl[0] - 2.5) < 1e-5)
        let incl = try pool("AveragePool", [.ints("kernel_shape", [3, 3]), .ints("strides", [2, 2]), .ints("pads", [1, 1, 1, 1]), .int("count_include_pad", 1)])
        #expect(abs(incl[0] - 10.0 / 9) < 1e-5)
        let maxPad = try pool("MaxPool", [.ints("kernel_shape", [3, 3]), .ints("strides", [2, 2]), .ints("pads", [1, 1, 1, 1])])
        Self.expectClose(Array(maxPad[0..<4]), [5, 7, 13, 15])
        // ceil_mode on 5x5 with 2x2 stride 2: 3x3 output, last window clipped.
        let ceil = try pool("MaxPool", [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2]), .int("ceil_mode", 1)], size: 5)
        Self.expectClose(Array(ceil[0..<9]), [6, 8, 9, 16, 18, 19, 21, 23, 24])
        // Dilated max pool: 2x2 kernel, dilation 2 on 4x4: windows {0,2,8,10} -> 10, ...
        let dilated = try pool("MaxPool", [.ints("kernel_shape", [2, 2]), .ints("dilations", [2, 2])])
        Self.expectClose(Array(dilated[0..<4]), [10, 11, 14, 15])
        let global = try pool("GlobalAveragePool", [])
        Self.expectClose(global, [7.5, 23.5, 39.5])
    }

    @Test func gemmVariants() throws {
        // x flattened from [N,3,1,1] = [1, 2, 3].
        let b: [Float] = [1, 0, 2, 1, 0, 1]  // [3,2]
        func gemm(_ attrs: [ONNX.AttributeProto], bias: ONNX.TensorProto?, weights: ONNX.TensorProto) throws -> [Float] {
            let nodes = [
                ONNX.NodeProto(opType: "Flatten", inputs: ["x"], outputs: ["f"]),
                ONNX.NodeProto(opType: "Gemm", inputs: bias == nil ? ["f", "w"] : ["f", "w", "c"], outputs: ["y"], attributes: attrs),
            ]
            return try Self.run(TestModels.model(size: 1, nodes: nodes, initializers: [weights] + (bias.map { [$0] } ?? []), output: "y"), [1, 2, 3])
        }
        let w = ONNX.TensorProto(name: "w", dims: [3, 2], floats: b)
        // [1,2,3]·[[1,0],[2,1],[0,1]] = [5, 5]
        Self.expectClose(try gemm([], bias: nil, weights: w), [5, 5])
        Self.expectClose(try gemm([.float("alpha", 2), .float("beta", 0.5)], bias: ONNX.TensorProto(name: "c", dims: [2], floats: [10, -2]), weights: w), [15, 9])
        Self.expectClose(try gemm([], bias: ONNX.TensorProto(name: "c", dims: [1, 2], floats: [1, 2]), weights: w), [6, 7])
        Self.expectClose(try gemm([.float("beta", 2)], bias: ONNX.TensorProto(name: "c", dims: [], floats: [1]), weights: w), [7, 7])
        let wt = ONNX.TensorProto(name: "w", dims: [2, 3], floats: [1, 2, 0, 0, 1, 1])
        Self.expectClose(try gemm([.int("transB", 1)], bias: nil, weights: wt), [5, 5])
        #expect(throws: ModelError.self) { try gemm([.int("transA", 1)], bias: nil, weights: w) }
        // MatMul + Add is folded into one dense layer with bias.
        let nodes = [
            ONNX.NodeProto(opType: "Flatten", inputs: ["x"], outputs: ["f"]),
            ONNX.NodeProto(opType: "MatMul", inputs: ["f", "w"], outputs: ["m"]),
            ONNX.NodeProto(opType: "Add", inputs: ["c", "m"], outputs: ["y"]),
        ]
        let matmul = TestModels.model(size: 1, nodes: nodes, initializers: [w, ONNX.TensorProto(name: "c", dims: [2], floats: [1, -1])], output: "y")
        Self.expectClose(try Self.run(matmul, [1, 2, 3]), [6, 4])
    }

    @Test func broadcastingAddAndMul() throws {
        // [N,3,1,2] + [3,1,1] per channel; * [2] per column; + another activation.
        let nodes = [
            ONNX.NodeProto(opType: "Add", inputs: ["x", "c"], outputs: ["a"]),
            ONNX.NodeProto(opType: "Mul", inputs: ["a", "r"], outputs: ["m"]),
            ONNX.NodeProto(opType: "Add", inputs: ["m", "x"], outputs: ["body_out"]),
        ]
        var graph = TestModels.flattened(
            size: 1, nodes: nodes,
            initializers: [ONNX.TensorProto(name: "c", dims: [3, 1, 1], floats: [10, 20, 30]), ONNX.TensorProto(name: "r", dims: [1], floats: [2])])
        Self.expectClose(try Self.run(graph, [1, 2, 3]), [23, 46, 69])
        // Scalar Mul, and [1,3,1,1] against a batch of two.
        graph = TestModels.flattened(
            size: 1, nodes: [ONNX.NodeProto(opType: "Mul", inputs: ["k", "x"], outputs: ["body_out"])],
            initializers: [ONNX.TensorProto(name: "k", dims: [1, 3, 1, 1], floats: [1, -1, 0.5])])
        Self.expectClose(try Self.run(graph, [1, 2, 3, 4, 5, 6], batch: 2), [1, -2, 1.5, 4, -5, 3])
    }

    @Test func softmaxReshapeConcatConstantIdentityDropout() throws {
        let nodes = [
            ONNX.NodeProto(opType: "Identity", inputs: ["x"], outputs: ["i"]),
            ONNX.NodeProto(opType: "Dropout", inputs: ["i"], outputs: ["d"]),
            ONNX.NodeProto(opType: "Constant", inputs: [], outputs: ["shape"], attributes: [.tensor("value", ONNX.TensorProto(name: "", dims: [2], int64s: [0, -1]))]),
            ONNX.NodeProto(opType: "Reshape", inputs: ["d", "shape"], outputs: ["flat"]),
            ONNX.NodeProto(opType: "Softmax", inputs: ["flat"], outputs: ["s"], attributes: [.int("axis", 1)]),
            ONNX.NodeProto(opType: "Concat", inputs: ["s", "flat"], outputs: ["y"], attributes: [.int("axis", 1)]),
        ]
        let out = try Self.run(TestModels.model(size: 1, nodes: nodes, output: "y"), [0, Float(2).squareRoot().squareRoot(), 1])
        let e: [Float] = [1, Float(Foundation.exp(Double(Float(2).squareRoot().squareRoot()))), Float(Foundation.exp(1.0))]
        let sum = e.reduce(0, +)
        Self.expectClose(out, e.map { $0 / sum } + [0, Float(2).squareRoot().squareRoot(), 1])
        // Reshape with 0 copying the channel axis, then Flatten, on [N,3,2,2] -> [N,3,4] -> [N,12].
        let reshape = [
            ONNX.NodeProto(opType: "Reshape", inputs: ["x", "shape"], outputs: ["r"]),
            ONNX.NodeProto(opType: "Softmax", inputs: ["r"], outputs: ["body_out"], attributes: [.int("axis", -1)]),
        ]
        let model = TestModels.flattened(size: 2, nodes: reshape, initializers: [ONNX.TensorProto(name: "shape", dims: [3], int64s: [0, 0, -1])])
        let soft = try Self.run(model, Self.ramp(2))
        // Each channel's 4 values 0,1,2,3 (shifted) give the same softmax.
        let base: [Float] = [0, 1, 2, 3].map { Float(Foundation.exp(Double($0))) }
        let total = base.reduce(0, +)
        Self.expectClose(Array(soft[0..<4]), base.map { $0 / total })
        Self.expectClose(Array(soft[8..<12]), base.map { $0 / total })
        // Constant in its value_floats form, added to an activation.
        let constant = TestModels.flattened(
            size: 1,
            nodes: [
                ONNX.NodeProto(opType: "Constant", inputs: [], outputs: ["k"], attributes: [.floats("value_floats", [1])]),
                ONNX.NodeProto(opType: "Add", inputs: ["x", "k"], outputs: ["body_out"]),
            ])
        Self.expectClose(try Self.run(constant, [1, 2, 3]), [2, 3, 4])
    }
}

import Foundation

/// The Winograd lowering (3x3, stride 1, 16+ channels) and the bias/ReLU deferred to max pooling,
/// against a convolution written out as plain loops.
@Suite struct WinogradTests {
    static func naiveConv(_ x: [Float], c: Int, h: Int, w: Int, weights: [Float], bias: [Float], outC: Int, pads: [Int]) -> (out: [Float], oh: Int, ow: Int) {
        let oh = h + pads[0] + pads[2] - 2, ow = w + pads[1] + pads[3] - 2
        var out = [Float](repeating: 0, count: outC * oh * ow)
        for o in 0..<outC {
            for y in 0..<oh {
                for xx in 0..<ow {
                    var sum = bias[o]
                    for i in 0..<c {
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                let iy = y + ky - pads[0], ix = xx + kx - pads[1]
                                if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
                                sum += weights[((o * c + i) * 3 + ky) * 3 + kx] * x[(i * h + iy) * w + ix]
                            }
                        }
                    }
                    out[(o * oh + y) * ow + xx] = sum
                }
            }
        }
        return (out, oh, ow)
    }

    /// A 1x1 convolution from 3 to `mid` channels (the Winograd lowering needs 16+ in and out),
    /// then the 3x3 convolution under test into `k`, then `tail`, which ends in `body_out`.
    struct ConvPair {
        let side: Int, mid: Int, outC: Int, pads: [Int]
        let w0: [Float], w1: [Float], b1: [Float]

        init(side: Int, mid: Int = 16, outC: Int, pads: [Int], seed: UInt64) {
            self.side = side
            self.mid = mid
            self.outC = outC
            self.pads = pads
            w0 = TestModels.values(mid * 3, seed: seed)
            w1 = TestModels.values(outC * mid * 9, seed: seed + 1).map { $0 * 0.3 }
            b1 = TestModels.values(outC, seed: seed + 2)
        }

        func model(tail: [ONNX.NodeProto]) -> ONNX.ModelProto {
            TestModels.flattened(
                size: side,
                nodes: [
                    ONNX.NodeProto(opType: "Conv", inputs: ["x", "w0"], outputs: ["c"]),
                    ONNX.NodeProto(opType: "Conv", inputs: ["c", "w1", "b1"], outputs: ["k"], attributes: [.ints("pads", pads)]),
                ] + tail,
                initializers: [
                    ONNX.TensorProto(name: "w0", dims: [mid, 3, 1, 1], floats: w0), ONNX.TensorProto(name: "w1", dims: [outC, mid, 3, 3], floats: w1),
                    ONNX.TensorProto(name: "b1", dims: [outC], floats: b1),
                ])
        }

        /// `k` for one image `[3, side, side]`, by plain loops.
        func expectedConvolution(_ x: [Float]) -> (out: [Float], oh: Int, ow: Int) {
            let s = side
            var c = [Float](repeating: 0, count: mid * s * s)
            for o in 0..<mid {
                for p in 0..<(s * s) {
                    for i in 0..<3 { c[o * s * s + p] += w0[o * 3 + i] * x[i * s * s + p] }
                }
            }
            return WinogradTests.naiveConv(c, c: mid, h: s, w: s, weights: w1, bias: b1, outC: outC, pads: pads)
        }
    }

    /// The convolution's own output, every row and column of it: sides odd and even, and rows wide
    /// enough (up to 22 tiles) for the vector loops of the tile transforms and their remainders.
    @Test(arguments: [(37, [1, 1, 1, 1]), (36, [0, 0, 0, 0]), (45, [0, 2, 1, 0]), (9, [1, 0, 2, 1])])
    func winogradOutputMatchesDirectConvolutionEverywhere(side s: Int, pads: [Int]) throws {
        let pair = ConvPair(side: s, outC: 16, pads: pads, seed: 11)
        let model = pair.model(tail: [ONNX.NodeProto(opType: "Identity", inputs: ["k"], outputs: ["body_out"])])
        let input = TestModels.values(3 * s * s, seed: 14)
        let got = try InferenceModel(model: model).run(input, batch: 1, threads: 1)
        let expected = pair.expectedConvolution(input).out
        #expect(got.count == expected.count)
        let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-4, "max difference \(worst)")
    }

    @Test(arguments: [[1, 1, 1, 1], [0, 0, 0, 0], [0, 2, 1, 0]])
    func winogradMatchesDirectConvolution(pads: [Int]) throws {
        let s = 7, outC = 18
        let pair = ConvPair(side: s, outC: outC, pads: pads, seed: 5)
        let model = pair.model(tail: [
            ONNX.NodeProto(opType: "Relu", inputs: ["k"], outputs: ["r"]),
            ONNX.NodeProto(opType: "MaxPool", inputs: ["r"], outputs: ["body_out"], attributes: [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])]),
        ])
        let batch = 2
        let input = TestModels.values(batch * 3 * s * s, seed: 8)
        let got = try InferenceModel(model: model).run(input, batch: batch, threads: 1)
        var expected: [Float] = []
        for n in 0..<batch {
            // The 1x1 convolution, then the 3x3 one, ReLU and 2x2 max pooling, by hand.
            let x = Array(input[(n * 3 * s * s)..<((n + 1) * 3 * s * s)])
            let (k, oh, ow) = pair.expectedConvolution(x)
            for o in 0..<outC {
                for y in 0..<(oh / 2) {
                    for xx in 0..<(ow / 2) {
                        let window = [k[(o * oh + 2 * y) * ow + 2 * xx], k[(o * oh + 2 * y) * ow + 2 * xx + 1],
                                      k[(o * oh + 2 * y + 1) * ow + 2 * xx], k[(o * oh + 2 * y + 1) * ow + 2 * xx + 1]]
                        expected.append(max(window.max()!, 0))
                    }
                }
            }
        }
        #expect(got.count == expected.count)
        let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-4, "max difference \(worst)")
    }
}

/// A 2x2, stride-2 max pool after a Winograd convolution is done by its output transform; the
/// result must equal the convolution's own output pooled afterwards, bit for bit, on every path.
@Suite(.serialized) struct FusedMaxPoolTests {
    static func pooled(_ k: [Float], channels: Int, height: Int, width: Int, ceil: Bool) -> [Float] {
        let ph = ceil ? (height + 1) / 2 : height / 2, pw = ceil ? (width + 1) / 2 : width / 2
        var out: [Float] = []
        for o in 0..<channels {
            for y in 0..<ph {
                for x in 0..<pw {
                    var best = -Float.infinity
                    for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] where 2 * y + dy < height && 2 * x + dx < width {
                        best = max(best, k[(o * height + 2 * y + dy) * width + 2 * x + dx])
                    }
                    out.append(best)
                }
            }
        }
        return out
    }

    /// Sides that keep or drop the last tile column (the contiguous and the row-by-row loop),
    /// several images per transform pass, and ceil_mode, which is not fused (partial windows).
    @Test(arguments: [(37, [1, 1, 1, 1], 0), (36, [0, 0, 0, 0], 0), (45, [0, 2, 1, 0], 0), (9, [1, 0, 2, 1], 0), (37, [1, 1, 1, 1], 1)])
    func fusedPoolEqualsThePoolOfTheConvolution(side s: Int, pads: [Int], ceilMode: Int) throws {
        let pair = WinogradTests.ConvPair(side: s, outC: 16, pads: pads, seed: 31)
        let full = try InferenceModel(model: pair.model(tail: [
            ONNX.NodeProto(opType: "Relu", inputs: ["k"], outputs: ["body_out"])
        ]))
        let pooled = try InferenceModel(model: pair.model(tail: [
            ONNX.NodeProto(opType: "Relu", inputs: ["k"], outputs: ["r"]),
            ONNX.NodeProto(
                opType: "MaxPool", inputs: ["r"], outputs: ["body_out"],
                attributes: [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2]), .int("ceil_mode", ceilMode)]),
        ]))
        let oh = s + pads[0] + pads[2] - 2, ow = s + pads[1] + pads[3] - 2
        let batch = 3
        let input = TestModels.values(batch * 3 * s * s, seed: 32)
        try EngineKernelPath.forEachSupported { path in
            let k = try full.run(input, batch: batch, threads: 1)
            let got = try pooled.run(input, batch: batch, threads: 1)
            var expected: [Float] = []
            for n in 0..<batch {
                let item = Array(k[(n * 16 * oh * ow)..<((n + 1) * 16 * oh * ow)])
                expected += Self.pooled(item, channels: 16, height: oh, width: ow, ceil: ceilMode == 1)
            }
            #expect(got.map(\.bitPattern) == expected.map(\.bitPattern), "path \(path), side \(s), pads \(pads), ceil \(ceilMode)")
        }
    }
}

extension FusedMaxPoolTests {
    /// A leaky ReLU with a negative slope is not monotonic: the pool must see its output, so it is
    /// neither fused nor handed the activation.
    @Test func aNonMonotonicActivationIsPooledAfterIt() throws {
        let s = 13
        let pair = WinogradTests.ConvPair(side: s, outC: 16, pads: [1, 1, 1, 1], seed: 41)
        let leaky = ONNX.NodeProto(opType: "LeakyRelu", inputs: ["k"], outputs: ["r"], attributes: [.float("alpha", -0.5)])
        let full = try InferenceModel(model: pair.model(tail: [leaky, ONNX.NodeProto(opType: "Identity", inputs: ["r"], outputs: ["body_out"])]))
        let pooled = try InferenceModel(model: pair.model(tail: [
            leaky,
            ONNX.NodeProto(
                opType: "MaxPool", inputs: ["r"], outputs: ["body_out"], attributes: [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])]),
        ]))
        let input = TestModels.values(3 * s * s, seed: 42)
        let expected = Self.pooled(try full.run(input, batch: 1, threads: 1), channels: 16, height: s, width: s, ceil: false)
        #expect(try pooled.run(input, batch: 1, threads: 1) == expected)
    }
}

/// The 2x2 max pooling kernel (vectorised C) against the general window loop, on planes wide
/// enough for the vector loop and its remainder, with odd sides that drop a row and a column.
@Suite struct MaxPoolKernelTests {
    @Test(arguments: [(50, 50), (25, 25), (9, 71), (4, 2)])
    func twoByTwoMatchesTheGeneralWindowLoop(height: Int, width: Int) {
        let planes = 3
        let input = TestModels.values(planes * height * width, seed: 21)
        let oh = height / 2, ow = width / 2
        let window = Window2D(kernelH: 2, kernelW: 2, strideH: 2, strideW: 2)
        var got = [Float](repeating: .nan, count: planes * oh * ow)
        input.withUnsafeBufferPointer { x in
            got.withUnsafeMutableBufferPointer { y in
                Kernels.maxPool(
                    input: x.baseAddress!, planes: planes, height: height, width: width, window: window,
                    outputHeight: oh, outputWidth: ow, output: y.baseAddress!)
            }
        }
        var expected: [Float] = []
        for p in 0..<planes {
            for y in 0..<oh {
                for x in 0..<ow {
                    let at = { (dy: Int, dx: Int) in input[(p * height + 2 * y + dy) * width + 2 * x + dx] }
                    expected.append([at(0, 0), at(0, 1), at(1, 0), at(1, 1)].max()!)
                }
            }
        }
        #expect(got == expected)
    }
}
