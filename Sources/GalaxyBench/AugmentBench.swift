import ArgumentParser
import Foundation
import GalaxyImage
import GalaxySynth
import GalaxyTraining

/// Microseconds per augmented training sample (`Augmenter.render` from decoded frames), one
/// thread, over synthetic 424x424 galaxies or a directory of JPEGs. Prints one JSON object.
struct AugmentBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "augment", abstract: "Benchmark: training-time augmentation, microseconds per sample.")

    @Option(help: "Directory of JPEG files; without it, synthetic galaxies are rendered.")
    var input: String?

    @Option(help: "Synthetic images to render when no --input is given.")
    var images: Int = 32

    @Option(help: "Decode scale the model declares: 1, 1/2, 1/4 or 1/8.")
    var decodeScale: String = "1/4"

    @Option(help: "Augmentation spec (none, standard or a list of keys).")
    var augment: String = "standard"

    @Option(help: "Samples rendered per timed pass; the median of the passes is reported.")
    var samples: Int = 4000

    @Option(help: "Timed passes.")
    var runs: Int = 5

    func run() throws {
        guard let scale = DecodeScale(metadataValue: decodeScale) else {
            throw ValidationError("--decode-scale must be 1, 1/2, 1/4 or 1/8.")
        }
        let settings = try AugmentationSettings(spec: augment)
        let jpegs: [[UInt8]]
        if let input {
            jpegs = try PreprocessFiles.jpegFiles(at: URL(fileURLWithPath: input)).map {
                [UInt8](try Data(contentsOf: $0))
            }
        } else {
            let renderer = SyntheticGalaxyRenderer()
            jpegs = try (0..<images).map { i in
                let image = try renderer.render(label: ["Er", "Sb", "SBc", "A"][i % 4], seed: UInt64(i))
                return try JPEGEncoder.encode(rgb: image.pixels, width: image.width, height: image.height, quality: 90)
            }
        }
        guard !jpegs.isEmpty else { throw ValidationError("no JPEG files to augment.") }
        let augmenter = Augmenter(settings: settings, options: PreprocessOptions(decodeScale: scale))
        let frames = try jpegs.map { try augmenter.frame(jpeg: $0) }
        let output = UnsafeMutablePointer<Float>.allocate(capacity: augmenter.options.floatCount)
        defer { output.deallocate() }

        func threadCPUSeconds() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        /// Wall-clock and thread CPU microseconds per sample of one pass.
        func pass(_ round: Int) -> (wall: Double, cpu: Double) {
            let seeds = TrainingLoop.epochPlan(seed: 1, epoch: round + 1, count: samples).sampleSeeds
            let cpu = threadCPUSeconds(), start = DispatchTime.now().uptimeNanoseconds
            for i in 0..<samples {
                augmenter.render(frames[i % frames.count], seed: seeds[i], into: output)
            }
            let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1000
            return (wall / Double(samples), (threadCPUSeconds() - cpu) * 1e6 / Double(samples))
        }
        _ = pass(0)  // warm-up: scratch buffers, weights, the re-compression decoder
        let passes = (1...max(1, runs)).map(pass)
        let wall = passes.map(\.wall).sorted()[passes.count / 2]
        let cpu = passes.map(\.cpu).sorted()[passes.count / 2]
        print(
            """
            {"augment": "\(settings)", "decode_scale": "\(decodeScale)", "frames": \(frames.count), \
            "frame": "\(frames[0].width)x\(frames[0].height)", "samples": \(samples), \
            "median_us": \(String(format: "%.2f", wall)), "median_cpu_us": \(String(format: "%.2f", cpu))}
            """)
    }
}
