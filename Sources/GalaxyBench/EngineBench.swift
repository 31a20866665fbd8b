import ArgumentParser
import Foundation
import GalaxyCore
import GalaxyEngine

/// Engine programs driven by scripts/bench-engine and scripts/checks/engine-vs-onnxruntime.
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine", abstract: "Benchmark and cross-check the inference engine.",
        subcommands: [EngineTime.self, EngineRun.self, EngineRoundTrip.self])
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

    func run() throws {
        let engine = try loadModel(model, precision: precision)
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
        pass()  // warm up: workspaces, OpenBLAS buffers
        var rates: [Double] = []
        var total = 0
        for _ in 0..<runs {
            var images = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            repeat {
                pass()
                images += batch
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } while elapsed < seconds
            rates.append(Double(images) / elapsed)
            total += images
        }
        rates.sort()
        print("{\"images_per_second\":\(rates[rates.count / 2]),\"images\":\(total),\"runs\":\(rates),\"gemm\":\"\(Kernels.gemmBackend.rawValue)\"}")
    }
}

/// Runs a model on a raw little-endian float32 tensor file and writes the output tensor.
struct EngineRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a model on a raw float32 tensor file (for cross-checks).")

    @Option(help: "ONNX model file.") var model: String
    @Option(help: "Raw float32 input, N*3*S*S values.") var input: String
    @Option(help: "Where to write the raw float32 output, N*K values.") var output: String
    @Option(help: "Threads.") var threads = 2

    func run() throws {
        let engine = try loadModel(model)
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
