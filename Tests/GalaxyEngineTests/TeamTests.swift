import Foundation
import Testing

@testable import GalaxyEngine

/// A single image shared by several threads (`TeamRun`) must give exactly the bits of one thread:
/// the parts split work without changing any sum's order.
@Suite(.serialized) struct TeamTests {
    /// Every lowering a team splits: im2col with its epilogue as a phase of its own, pointwise,
    /// Winograd with an odd channel count (a bf16 pair with no odd half) followed by a max pool
    /// that takes over its epilogue, grouped and depthwise convolutions (run whole), a 2x2 max
    /// pool carrying the depthwise layer's epilogue; on an odd size so tiles are clipped and some
    /// column parts are empty.
    static func everyLowering(size: Int = 13) -> ONNX.ModelProto {
        var inits: [ONNX.TensorProto] = []
        var nodes: [ONNX.NodeProto] = []
        var current = "x", channels = 3
        let layers: [(out: Int, kernel: Int, group: Int)] = [
            (17, 3, 1), (19, 1, 1), (21, 3, 1), (21, 3, 3), (21, 3, 21),
        ]
        for (i, layer) in layers.enumerated() {
            let fanIn = channels / layer.group * layer.kernel * layer.kernel
            inits.append(
                ONNX.TensorProto(
                    name: "w\(i)", dims: [layer.out, channels / layer.group, layer.kernel, layer.kernel],
                    floats: TestModels.values(layer.out * fanIn, seed: 70 + UInt64(i)).map {
                        $0 / Float(fanIn).squareRoot()
                    }))
            inits.append(
                ONNX.TensorProto(
                    name: "b\(i)", dims: [layer.out],
                    floats: TestModels.values(layer.out, seed: 80 + UInt64(i)).map { $0 * 0.1 }))
            let pad = layer.kernel / 2
            nodes.append(
                ONNX.NodeProto(
                    opType: "Conv", inputs: [current, "w\(i)", "b\(i)"], outputs: ["c\(i)"],
                    attributes: [
                        .ints("kernel_shape", [layer.kernel, layer.kernel]),
                        .ints("pads", [pad, pad, pad, pad]), .int("group", layer.group),
                    ]))
            nodes.append(ONNX.NodeProto(opType: "Relu", inputs: ["c\(i)"], outputs: ["r\(i)"]))
            current = "r\(i)"
            channels = layer.out
            if i == 2 {
                // A 3x3 max pool the Winograd transform cannot fuse: it takes over the epilogue.
                nodes.append(
                    ONNX.NodeProto(
                        opType: "MaxPool", inputs: [current], outputs: ["q\(i)"],
                        attributes: [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1])]))
                current = "q\(i)"
            }
        }
        nodes.append(
            ONNX.NodeProto(
                opType: "MaxPool", inputs: [current], outputs: ["p"],
                attributes: [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])]))
        nodes.append(ONNX.NodeProto(opType: "GlobalAveragePool", inputs: ["p"], outputs: ["g"]))
        nodes.append(ONNX.NodeProto(opType: "Flatten", inputs: ["g"], outputs: ["y"]))
        return TestModels.model(size: size, nodes: nodes, initializers: inits, output: "y", outputCount: 21)
    }

    static func models() throws -> [(name: String, model: InferenceModel)] {
        let shipped = try ONNX.ModelProto(serialized: DefaultModel.onnx())
        var models: [(String, InferenceModel)] = []
        for (name, proto) in [
            ("shipped", shipped), ("default architecture", TestModels.defaultArchitecture(size: 50)),
            ("every lowering", everyLowering()),
            // 17x17 tiles: in bf16 its Winograd layer splits by tile rows for 2 to 4 members.
            ("every lowering, 33x33", everyLowering(size: 33)),
        ] {
            models.append(("\(name) fp32", try InferenceModel(model: proto, precision: .fp32)))
            models.append(("\(name) bf16", try InferenceModel(model: proto, precision: .bf16)))
        }
        return models
    }

    static func image(_ model: InferenceModel, seed: UInt64) -> [Float] {
        TestModels.values(model.inputCount, seed: seed).map { ($0 + 1) / 2 }
    }

    /// One image through a team of `members` (whatever `TeamChoice` would pick).
    static func team(_ model: InferenceModel, _ input: [Float], members: Int) -> [Float] {
        var output = [Float](repeating: .nan, count: model.outputCount)
        input.withUnsafeBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { model.runAsTeam(input: inp, output: $0, members: members) }
        }
        return output
    }

    @Test func oneImageSharedByThreadsGivesTheBitsOfOneThreadOnEveryPath() throws {
        try EngineKernelPath.forEachSupported { path in
            for (name, model) in try Self.models() {
                for seed in UInt64(1)...3 {
                    let input = Self.image(model, seed: seed)
                    let alone = try model.run(input, batch: 1, threads: 1)
                    for threads in [2, 3, 4] {
                        for _ in 0..<10 {
                            let shared = Self.team(model, input, members: threads)
                            #expect(
                                zip(shared, alone).allSatisfy { $0.bitPattern == $1.bitPattern },
                                "\(name), path \(path), \(threads) threads: \(shared) vs \(alone)")
                        }
                    }
                    // The public entry point, which picks a team or one thread as measured.
                    for _ in 0..<10 {
                        #expect(try model.run(input, batch: 1, threads: 2) == alone, "\(name), path \(path)")
                    }
                }
            }
        }
    }

    /// While recording, the caller adds every step of every image to the step times (a helper only
    /// the steps it joined); before and after, nothing is added.
    @Test func teamStepTimesCountEveryStepOfTheRecordedImages() throws {
        let model = try InferenceModel(model: TestModels.defaultArchitecture(size: 50), precision: .fp32)
        let input = Self.image(model, seed: 4)
        _ = Self.team(model, input, members: 2)
        model.recordTeamSteps(true)
        for _ in 0..<5 { _ = Self.team(model, input, members: 2) }
        model.recordTeamSteps(false)
        _ = Self.team(model, input, members: 2)
        let plan = model.teamPlan(members: 2)
        #expect(model.teamStepReport(members: 2).split(separator: "\n").count == 1 + plan.steps.count)
        for step in plan.steps.indices {
            #expect(plan.stepTimes.perImage(step: step, member: 0).images == 5, "step \(step)")
            #expect(plan.stepTimes.perImage(step: step, member: 1).images <= 5, "step \(step)")
        }
        #expect(plan.steps.indices.contains { plan.stepTimes.perImage(step: $0, member: 0).working > 0 })
    }

    /// Callers on several threads share the helpers: each still gets its own image's bits, whether
    /// a helper joined its team, another caller's, or none.
    @Test func concurrentCallersEachGetTheirOwnImagesResult() throws {
        let models = try Self.models()
        let inputs = models.enumerated().map { Self.image($1.model, seed: 20 + UInt64($0)) }
        let expected = try zip(models, inputs).map { try $0.model.run($1, batch: 1, threads: 1) }
        let failures = NSLock()
        nonisolated(unsafe) var failed: [String] = []
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for round in 0..<30 {
                let i = (caller + round) % models.count
                let output = Self.team(models[i].model, inputs[i], members: 2 + round % 2)
                if output.map(\.bitPattern) != expected[i].map(\.bitPattern) {
                    failures.lock()
                    failed.append("caller \(caller), round \(round), \(models[i].name)")
                    failures.unlock()
                }
            }
        }
        #expect(failed.isEmpty, "\(failed)")
    }

    /// Helpers spin after a run only when the previous one gave its seats back less than a spin
    /// ago; a withdrawal stamped after the offer's clock read (another caller's, under the lock
    /// first) counts as just now instead of overflowing the subtraction.
    @Test func helpersSpinOnlyRightAfterARunWhateverOrderTheClocksWereRead() {
        let spin = TeamHelpers.spinNanoseconds
        #expect(TeamHelpers.spin(now: 10_000_000, lastWithdrawn: 10_000_000 - UInt64(spin) / 2) == spin)
        #expect(TeamHelpers.spin(now: 10_000_000, lastWithdrawn: 10_000_000 - UInt64(spin) * 2) == 0)
        #expect(TeamHelpers.spin(now: 10_000_000, lastWithdrawn: 10_000_100) == spin)
        #expect(TeamHelpers.spin(now: 10_000_000, lastWithdrawn: 0) == 0)
    }

    /// Members are whoever arrives: a helper that joins before the caller does all the work with
    /// its own temporaries, the caller then finds nothing left, and a helper arriving after the
    /// run touches nothing.
    @Test func aHelperThatArrivesFirstDoesEveryPartAndALateOneNothing() throws {
        for (name, model) in try Self.models() {
            let input = Self.image(model, seed: 9)
            let alone = try model.run(input, batch: 1, threads: 1)
            var output = [Float](repeating: .nan, count: model.outputCount)
            var finished: TeamRun?
            input.withUnsafeBufferPointer { inp in
                output.withUnsafeMutableBufferPointer { out in
                    model.runAsTeam(input: inp, output: out, members: 3) { team in
                        let joined = DispatchSemaphore(value: 0)
                        let helper = Thread {
                            team.join()
                            joined.signal()
                        }
                        helper.start()
                        joined.wait()
                        team.run()
                        finished = team
                    }
                }
            }
            #expect(
                zip(output, alone).allSatisfy { $0.bitPattern == $1.bitPattern },
                "\(name): \(output) vs \(alone)")
            // The workspace now belongs to other runs: a late member must not write into it.
            let before = try model.run(input, batch: 1, threads: 1)
            finished?.join()
            finished?.join()
            let after = try model.run(input, batch: 1, threads: 1)
            #expect(before == after && after == alone, "\(name)")
        }
    }
}
