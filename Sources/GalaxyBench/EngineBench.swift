import ArgumentParser
import Foundation
import GalaxyCore
import GalaxyEngine
import GalaxyImage
import GalaxyTraining

/// Engine programs driven by scripts/bench-engine and scripts/checks/engine-vs-onnxruntime.
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine", abstract: "Benchmark and cross-check the inference engine.",
        subcommands: [EngineTime.self, EngineRun.self, EngineRoundTrip.self, EngineTensors.self, EnginePrecisionCheck.self])
}

extension Precision: ExpressibleByArgument {}

private func loadModel(_ path: String, precision: Precision? = nil) throws -> InferenceModel {
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    do {
        return try InferenceModel(model: ONNX.ModelProto(serialized: bytes), precision: precision)
    } catch {
        // The cross-check reads the error from standard error and the exit status.
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        throw ExitCode(3)
    }
}

/// Images per second of the engine on one model, batch size and thread count.
struct EngineTime: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "time", abstract: "Images per second (median of several runs), as JSON.")

    @Option(help: "ONNX model file.") var model: String
    @Option(help: "Images per call.") var batch = 64
    @Option(help: "Threads.") var threads = 1
    @Option(help: "Timed runs; the median is reported.") var runs = 5
    @Option(help: "Minimum seconds per run.") var seconds = 0.5
    @Option(help: "Run the convolutions in this precision (fp32, bf16) instead of the model's own.")
    var precision: Precision?
    @Flag(help: "Stay loaded and warm: one run per line read from standard input, one JSON line each, until end of input (scripts interleave these runs with the reference's).")
    var paced = false
    @Flag(help: "With --batch 1 and 2 or more threads: after the runs, print to standard error each team member's time per image in each step's parts and in the wait after it.")
    var teamSteps = false

    func run() throws {
        let engine = try loadModel(model, precision: precision)
        if teamSteps {
            guard batch == 1 && threads > 1 else { throw ValidationError("--team-steps needs --batch 1 and --threads 2 or more (one image shared by a team).") }
            engine.recordTeamSteps(true)
        }
        defer {
            if teamSteps { FileHandle.standardError.write(Data((engine.teamStepReport(members: threads) + "\n").utf8)) }
        }
        var input = [Float](repeating: 0, count: batch * engine.inputCount)
        for i in input.indices { input[i] = Float((i * 7919) % 1000) / 1000 }
        var output = [Float](repeating: 0, count: batch * engine.outputCount)
        func pass() {
            input.withUnsafeBufferPointer { inp in
                output.withUnsafeMutableBufferPointer { out in
                    engine.run(input: inp, batch: batch, output: out, threads: threads)
                }
            }
        }
        /// Images per second of one run of at least `seconds`.
        func timedRun() -> (rate: Double, images: Int) {
            var images = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            repeat {
                pass()
                images += batch
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } while elapsed < seconds
            return (Double(images) / elapsed, images)
        }
        pass()  // warm up: workspaces, OpenBLAS buffers
        if paced {
            // Written straight to the pipe: the script waits for each line.
            FileHandle.standardOutput.write(Data("{\"ready\":true}\n".utf8))
            while readLine() != nil {
                FileHandle.standardOutput.write(Data("{\"images_per_second\":\(timedRun().rate)}\n".utf8))
            }
            return
        }
        var rates: [Double] = []
        var total = 0
        for _ in 0..<runs {
            let run = timedRun()
            rates.append(run.rate)
            total += run.images
        }
        // Runs in the order they ran: a machine that changes state shows as a step.
        let median = rates.sorted()[rates.count / 2]
        print("{\"images_per_second\":\(median),\"images\":\(total),\"runs\":\(rates),\"gemm\":\"\(Kernels.gemmBackend.rawValue)\"}")
    }
}

/// Runs a model on a raw little-endian float32 tensor file and writes the output tensor.
struct EngineRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a model on a raw float32 tensor file (for cross-checks).")

    @Option(help: "ONNX model file.") var model: String
    @Option(help: "Raw float32 input, N*3*S*S values.") var input: String
    @Option(help: "Where to write the raw float32 output, N*K values.") var output: String
    @Option(help: "Threads.") var threads = 2
    @Option(help: "Run the convolutions in this precision (fp32, bf16) instead of the model's own.")
    var precision: Precision?

    func run() throws {
        let engine = try loadModel(model, precision: precision)
        let data = try Data(contentsOf: URL(fileURLWithPath: input))
        let values = data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        guard values.count % engine.inputCount == 0 else {
            throw ValidationError("\(input) holds \(values.count) floats, not a multiple of \(engine.inputCount)")
        }
        let result = try engine.run(values, batch: values.count / engine.inputCount, threads: threads)
        let bytes = result.withUnsafeBufferPointer { Data(buffer: $0) }
        try bytes.write(to: URL(fileURLWithPath: output))
        print("{\"labels\":\"\(engine.metadata.labels.joined(separator: ","))\",\"output\":\"\(engine.metadata.output.rawValue)\",\"decode_scale\":\"\(engine.metadata.decodeScale.metadataValue)\"}")
    }
}

/// Parses a model and writes it back through the engine's protobuf writer.
struct EngineRoundTrip: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "roundtrip", abstract: "Parse an ONNX file and write it back (checks the protobuf writer).")

    @Option(help: "ONNX model file to read.") var model: String
    @Option(help: "Where to write it.") var output: String

    func run() throws {
        let proto = try ONNX.ModelProto(serialized: [UInt8](Data(contentsOf: URL(fileURLWithPath: model))))
        try Data(proto.serialized()).write(to: URL(fileURLWithPath: output))
    }
}

/// The model inputs of labelled images, preprocessed as the model's metadata says: raw float32
/// `[N,3,S,S]` and one catalog id per line, so that other runtimes are measured on exactly the
/// tensors the engine sees.
struct EngineTensors: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tensors", abstract: "Write the preprocessed inputs of a data set's images as raw float32.")

    @Option(help: "ONNX model file (its preprocessing is used).") var model: String
    @Option(help: "Data set directory with catalog.csv and images.") var data: String
    @Option(help: "Keep the images the id hash holds out at this fraction (held-out), or the others (training).")
    var heldOutFraction: Double
    @Option(help: "Which side of the split: held-out or training.") var part = "held-out"
    @Option(help: "At most this many images (the first ones in catalog order).") var limit = Int.max
    @Option(help: "Where to write the raw float32 tensors.") var output: String

    func run() throws {
        let engine = try loadModel(model)
        let images = try TrainingData.loadDirectory(URL(fileURLWithPath: data), options: CatalogOptions())
            .filter { HashSplit.isHeldOut(id: $0.id, fraction: heldOutFraction) == (part == "held-out") }
            .prefix(limit)
        let preprocessor = Preprocessor(options: engine.metadata.preprocessOptions)
        var values: [Float] = []
        var ids: [String] = []
        for image in images {
            guard let tensor = try? preprocessor.preprocess(jpeg: image.jpeg) else { continue }
            values += tensor
            ids.append(image.id)
        }
        try values.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: URL(fileURLWithPath: output))
        try Data((ids.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: output + ".ids"))
        print("{\"images\":\(ids.count)}")
    }
}

/// The accuracy guard of `galaxy model add --precision` on a data set, as JSON.
struct EnginePrecisionCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "precision-check", abstract: "The bf16 accuracy guard's report on labelled held-out images, as JSON.")

    @Option(help: "ONNX model file (fp32).") var model: String
    @Option(help: "Data set directory with catalog.csv and images.") var data: String
    @Option(help: "Check on the images the id hash holds out at this fraction.") var heldOutFraction: Double
    @Option(help: "Threads.") var threads = 2

    func run() throws {
        let proto = try ONNX.ModelProto(serialized: [UInt8](Data(contentsOf: URL(fileURLWithPath: model))))
        let images = try TrainingData.loadDirectory(URL(fileURLWithPath: data), options: CatalogOptions())
            .filter { HashSplit.isHeldOut(id: $0.id, fraction: heldOutFraction) }
        let report = try PrecisionCheck.run(
            original: InferenceModel(model: proto, precision: .fp32), variant: InferenceModel(model: proto, precision: .bf16),
            images: images, source: "\(data) held out at \(heldOutFraction)", threads: threads)
        print(report.json)
    }
}
