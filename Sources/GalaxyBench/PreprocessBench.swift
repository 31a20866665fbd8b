import ArgumentParser
import Foundation
import GalaxyCore
import GalaxyImage

/// Microseconds per image of the preprocessing (decode, crop, resize to floats) over a directory
/// of JPEGs held in memory, one `Preprocessor` and one output buffer per worker thread. Prints one
/// JSON object; scripts/bench-preprocess compares it with Pillow.
struct PreprocessBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess", abstract: "Benchmark: JPEG preprocessing, microseconds per image.")

    @Option(help: "Directory of JPEG files (read into memory first).")
    var input: String

    @Option(help: "Decode scale the preprocessing declares: 1, 1/2, 1/4 or 1/8.")
    var decodeScale: String = "1"

    @Option(help: "Worker threads.")
    var threads: Int = 1

    @Option(help: "Timed passes over all images; the median is reported.")
    var runs: Int = 5

    @Option(help: "Rotation in degrees applied to every image.")
    var rotation: Double = 0

    func validate() throws {
        guard DecodeScale(metadataValue: decodeScale) != nil else {
            throw ValidationError("--decode-scale must be 1, 1/2, 1/4 or 1/8.")
        }
        guard threads >= 1, runs >= 1 else {
            throw ValidationError("--threads and --runs must be at least 1.")
        }
    }

    func run() throws {
        let files = try PreprocessFiles.jpegFiles(at: URL(fileURLWithPath: input))
        let jpegs = try files.map { [UInt8](try Data(contentsOf: $0)) }
        guard !jpegs.isEmpty else { throw ValidationError("no JPEG files in \(input).") }
        let options = PreprocessOptions(decodeScale: DecodeScale(metadataValue: decodeScale) ?? .full)
        let workers = BenchWorkers(count: threads, options: options)
        let rotation = self.rotation

        /// Wall-clock and process CPU microseconds per image of one pass.
        func pass() -> (wall: Double, cpu: Double) {
            let cpuStart = processCPUSeconds()
            let start = DispatchTime.now().uptimeNanoseconds
            WorkerPool.forEach(jpegs.count, threads: threads) { worker, index in
                workers.process(jpegs[index], worker: worker, rotation: rotation)
            }
            let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1000
            let cpu = (processCPUSeconds() - cpuStart) * 1e6
            return (wall / Double(jpegs.count), cpu / Double(jpegs.count))
        }
        _ = pass()  // warm-up: caches, weights, scratch buffers
        let passes = (0..<runs).map { _ in pass() }
        let wall = passes.map(\.wall).sorted()[passes.count / 2]
        let cpu = passes.map(\.cpu).sorted()[passes.count / 2]
        let runsText = passes.map { String(format: "%.2f", $0.wall) }.joined(separator: ", ")
        print(
            """
            {"decode_scale": "\(decodeScale)", "threads": \(threads), "images": \(jpegs.count), \
            "failures": \(workers.failures), "runs_us": [\(runsText)], "median_us": \(String(format: "%.2f", wall)), \
            "median_cpu_us": \(String(format: "%.2f", cpu))}
            """)
    }
}

/// User plus system CPU time of the whole process, in seconds.
private func processCPUSeconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
        getrusage(RUSAGE_SELF, &usage)
    #endif
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// One preprocessor and output buffer per worker thread; worker indices are stable per thread,
/// so no two threads touch the same preprocessor.
private final class BenchWorkers: @unchecked Sendable {
    private let preprocessors: [Preprocessor]
    private let outputs: [UnsafeMutableBufferPointer<Float>]
    private let lock = NSLock()
    private(set) var failures = 0

    init(count: Int, options: PreprocessOptions) {
        preprocessors = (0..<count).map { _ in Preprocessor(options: options) }
        outputs = (0..<count).map { _ in .allocate(capacity: options.floatCount) }
    }

    deinit { outputs.forEach { $0.deallocate() } }

    func process(_ jpeg: [UInt8], worker: Int, rotation: Double) {
        do {
            try jpeg.withUnsafeBytes { bytes in
                try preprocessors[worker].preprocess(
                    jpeg: bytes, rotationDegrees: rotation, into: outputs[worker])
            }
        } catch {
            lock.lock()
            failures += 1
            lock.unlock()
        }
    }
}
