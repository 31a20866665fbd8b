import Foundation
import GalaxyCore

/// A loaded ONNX model: validated against the model contract and compiled with prepacked
/// weights at init, then run on any batch size from any thread.
public final class InferenceModel: Sendable {
    /// Labels and preprocessing from the model's metadata.
    public let metadata: ModelMetadata
    /// The per-image input shape `[3, S, S]`.
    public let inputShape: [Int]
    /// K, the number of classes.
    public let outputCount: Int
    /// The largest number of images one thread runs through the layers at once.
    public let chunkSize: Int
    let graph: CompiledGraph
    /// How many leading layers run image by image within a chunk: those before the first that
    /// prefers whole chunks (`Layer.prefersChunks`).
    private let imageByImageLayers: Int
    private let workspaces: WorkspacePool
    private let teamPlans: TeamPlans
    private let teamChoice = TeamChoice()

    /// How a single image uses the threads offered: measured each way as images come (`TeamChoice`),
    /// or as `GALAXY_TEAM` says: `1` always shared by a team, `0` always on one thread.
    static let teamSetting: Bool? = ProcessInfo.processInfo.environment["GALAXY_TEAM"].flatMap { ["1": true, "0": false][$0] }

    /// How a single image uses the threads offered, in words (for `galaxy doctor`).
    public static var singleImageThreading: String {
        switch teamSetting {
        case true?: return "shared by the threads (GALAXY_TEAM=1)"
        case false?: return "on one thread (GALAXY_TEAM=0)"
        case nil: return "shared by the threads or on one, whichever recent images ran faster (GALAXY_TEAM=1 or 0 fixes it)"
        }
    }

    /// Images per thread per pass unless the caller says otherwise (`GALAXY_CHUNK` overrides).
    public static var defaultChunkSize: Int {
        if let text = ProcessInfo.processInfo.environment["GALAXY_CHUNK"], let n = Int(text), n > 0 { return n }
        return 16
    }

    /// Floats per input image: `3 * S * S`.
    public var inputCount: Int { inputShape.reduce(1, *) }

    /// Loads a model from the bytes of an `.onnx` file.
    /// - Throws: `ModelError` naming the field, node or operator that is outside the contract.
    public convenience init(onnx bytes: [UInt8]) throws(ModelError) {
        try self.init(model: try ONNX.ModelProto(serialized: bytes))
    }

    /// Loads a parsed model.
    /// - Parameters:
    ///   - chunkSize: images per thread per pass (dense layers multiply this many rows at once).
    ///   - precision: the arithmetic of the convolutions; nil takes the model's `galaxy.precision`.
    /// - Throws: `ModelError` naming the field, node or operator that is outside the contract.
    public init(model: ONNX.ModelProto, chunkSize: Int = InferenceModel.defaultChunkSize, precision requested: Precision? = nil) throws(ModelError) {
        let precision: Precision
        if let requested { precision = requested } else { precision = try ModelMetadata.readPrecision(model) }
        let graph = try GraphCompiler.compile(model, precision: precision)
        self.graph = graph
        imageByImageLayers = graph.imageByImageLayers
        inputShape = graph.inputDims
        outputCount = graph.outputCount
        let endsWithSoftmax = model.graph.nodes.last?.opType == "Softmax"
        var metadata = try ModelMetadata(model: model, inputSize: graph.inputDims[1], outputCount: graph.outputCount, endsWithSoftmax: endsWithSoftmax)
        metadata.precision = precision
        self.metadata = metadata
        self.chunkSize = max(1, chunkSize)
        workspaces = WorkspacePool(graph: graph, capacity: self.chunkSize)
        teamPlans = TeamPlans(graph: graph)
    }

    /// Runs a batch: `input` holds `batch` images of `3*S*S` floats (NCHW); returns `batch * K` scores.
    /// - Parameter threads: images are spread over this many threads.
    /// - Throws: `ModelError` (`.invalidInput`) when `input` does not hold `batch` images.
    public func run(_ input: [Float], batch: Int, threads: Int = WorkerPool.defaultThreadCount) throws(ModelError) -> [Float] {
        guard batch >= 0, input.count == batch * inputCount else {
            throw ModelError(.invalidInput, "input holds \(input.count) floats; \(batch) images of [3,\(inputShape[1]),\(inputShape[2])] need \(batch * inputCount)")
        }
        var output = [Float](repeating: 0, count: batch * outputCount)
        input.withUnsafeBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                run(input: inp, batch: batch, output: out, threads: threads)
            }
        }
        return output
    }

    /// Runs a batch from and into caller buffers, spreading chunks of images over `threads` threads.
    /// A single image is shared by the threads layer by layer (`TeamRun`).
    public func run(input: UnsafeBufferPointer<Float>, batch: Int, output: UnsafeMutableBufferPointer<Float>, threads: Int = WorkerPool.defaultThreadCount) {
        precondition(input.count >= batch * inputCount && output.count >= batch * outputCount, "run: buffers smaller than the batch")
        guard batch > 0 else { return }
        let threads = max(1, threads)
        if batch == 1 && threads > 1 {
            Kernels.setBLASThreads(1)
            runSingleImage(input: input, output: output, threads: threads)
            return
        }
        let chunk = min(chunkSize, (batch + threads - 1) / threads)
        let chunks = (batch + chunk - 1) / chunk
        Kernels.setBLASThreads(max(1, threads / chunks))
        if chunks == 1 {
            runOnCurrentThread(input: input, batch: batch, output: output)
            return
        }
        let inputBase = Int(bitPattern: input.baseAddress)
        let outputBase = Int(bitPattern: output.baseAddress)
        let inCount = inputCount, outCount = outputCount
        WorkerPool.forEach(chunks, threads: threads) { _, c in
            let start = c * chunk
            let n = min(chunk, batch - start)
            let inp = UnsafeBufferPointer(start: UnsafePointer<Float>(bitPattern: inputBase)! + start * inCount, count: n * inCount)
            let out = UnsafeMutableBufferPointer(start: UnsafeMutablePointer<Float>(bitPattern: outputBase)! + start * outCount, count: n * outCount)
            self.runOnCurrentThread(input: inp, batch: n, output: out)
        }
    }

    /// Runs one image as a team or alone, whichever has been faster lately.
    private func runSingleImage(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>, threads: Int) {
        let decision = Self.teamSetting.map { TeamChoice.Decision(team: $0, counts: false) } ?? teamChoice.next()
        if !decision.team { TeamHelpers.shared.rest() }
        let start = DispatchTime.now().uptimeNanoseconds
        if decision.team {
            runAsTeam(input: input, output: output, members: threads)
        } else {
            runOnCurrentThread(input: input, batch: 1, output: output)
        }
        teamChoice.record(decision, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
    }

    /// Runs one image with up to `members` threads sharing each layer; the calling thread is one.
    /// `start` runs the team (tests pass one that lets threads of their own join first).
    func runAsTeam(
        input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>, members: Int,
        start: (TeamRun) -> Void = { $0.run() }
    ) {
        let (plan, records) = teamPlans.plan(members: members)
        workspaces.withWorkspace { ws in
            ws.slots[graph.inputSlot] = UnsafeMutablePointer(mutating: input.baseAddress!)
            ws.slots[graph.outputSlot] = output.baseAddress!
            start(
                TeamRun(
                    plan: plan, frame: Frame(slots: ws.slots, batch: 1, scratch: ws.scratch),
                    temporaries: ws.teamTemporaries(members: members, each: plan.temporaryCount), recordsSteps: records))
        }
    }

    /// Starts (or stops) adding up where teams of threads spend their time on single images, step
    /// by step (`teamStepReport`). Off by default: it reads the clock twice a step.
    public func recordTeamSteps(_ on: Bool) { teamPlans.recordSteps(on) }

    /// For teams of `members`: each member's time per image in its parts of each step and in the
    /// wait after it, since recording started (`recordTeamSteps`).
    public func teamStepReport(members: Int) -> String {
        let plan = teamPlan(members: members)
        return plan.stepTimes.report(plan: plan)
    }

    /// The team plan for `members`, with its step times.
    func teamPlan(members: Int) -> TeamRun.Plan { teamPlans.plan(members: members).plan }

    /// Runs a batch on the calling thread (for callers that parallelise themselves; `Classifier`
    /// reaches it through `run(threads: 1)` for each of its chunks). Allocates nothing once the
    /// thread's workspace exists.
    public func runOnCurrentThread(input: UnsafeBufferPointer<Float>, batch: Int, output: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count >= batch * inputCount && output.count >= batch * outputCount, "run: buffers smaller than the batch")
        guard batch > 0 else { return }
        workspaces.withWorkspace { ws in
            var start = 0
            while start < batch {
                let n = min(ws.capacity, batch - start)
                ws.slots[graph.inputSlot] = UnsafeMutablePointer(mutating: input.baseAddress! + start * inputCount)
                ws.slots[graph.outputSlot] = output.baseAddress! + start * outputCount
                // The leading layers image by image, every image's intermediates in the same memory
                // (`CompiledGraph.imageLocalSlots`): each convolution's output is pooled and read by
                // the next layer while it is still in L2 (a chunk's would not fit).
                var first = 0
                if n > 1 {
                    for image in 0..<n {
                        ws.pointImageSlots(at: image)
                        let frame = Frame(slots: ws.imageSlots, batch: 1, scratch: ws.scratch)
                        for layer in graph.layers[..<imageByImageLayers] { layer.run(frame) }
                    }
                    first = imageByImageLayers
                }
                let frame = Frame(slots: ws.slots, batch: n, scratch: ws.scratch)
                for layer in graph.layers[first...] { layer.run(frame) }
                start += n
            }
        }
    }
}
