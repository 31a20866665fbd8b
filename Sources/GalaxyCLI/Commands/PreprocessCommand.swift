import ArgumentParser
import Foundation
import GalaxyCore
import GalaxyImage

struct PreprocessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "Crop, rotate and resize JPEGs into PNGs the way the model sees them.",
        discussion: """
            Writes OUT/<angle>/<path>.png for every JPEG (.jpg, .jpeg) in IN, keeping IN's
            subdirectories. A file that cannot be decoded is reported by name and skipped; the
            exit status is 1 when any file failed.
            """)

    @Argument(help: "A JPEG file, or a directory searched recursively for .jpg and .jpeg files.")
    var input: String

    @Argument(help: "The output directory.")
    var output: String

    @Option(help: "Rotation angles in degrees (counterclockwise), comma-separated.")
    var angles: String = "0"

    @Option(help: "Side of the square output, in pixels.")
    var size: Int = 50

    @Option(help: "Fraction of the width and height cut from each border.")
    var crop: Double = 0.26

    @Option(help: "DCT scale to decode at: 1, 1/2, 1/4 or 1/8 (only what a model declares).")
    var decodeScale: String = "1"

    @Option(help: "Output format: png (8-bit, to look at) or f32 (the float tensor, NCHW).")
    var format: String = "png"

    @Option(help: "Worker threads (default: all cores, or GALAXY_THREADS).")
    var threads: Int?

    func validate() throws {
        _ = try parsedAngles()
        guard DecodeScale(metadataValue: decodeScale) != nil else {
            throw ValidationError("--decode-scale must be 1, 1/2, 1/4 or 1/8, got '\(decodeScale)'.")
        }
        guard PreprocessFiles.Format(rawValue: format) != nil else {
            throw ValidationError("--format must be png or f32, got '\(format)'.")
        }
        if let problem = options.problem { throw ValidationError("Invalid --size or --crop: \(problem).") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1.") }
    }

    private func parsedAngles() throws -> [Double] {
        let values = angles.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0?.isFinite == true }) else {
            throw ValidationError(
                "--angles must be comma-separated numbers such as 0,45,90, got '\(angles)'.")
        }
        return values.map { $0! }
    }

    private var options: PreprocessOptions {
        PreprocessOptions(
            cropFraction: crop, size: size, decodeScale: DecodeScale(metadataValue: decodeScale) ?? .full)
    }

    func run() async throws {
        let inputURL = URL(fileURLWithPath: input)
        let files: [URL]
        do {
            files = try PreprocessFiles.jpegFiles(at: inputURL)
        } catch {
            throw ValidationError("Cannot read IN: \(input) does not exist.")
        }
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: inputURL.path, isDirectory: &isDirectory)
        let job = PreprocessFiles(
            files: files, inputRoot: isDirectory.boolValue ? inputURL : nil,
            outputDirectory: URL(fileURLWithPath: output), angles: try parsedAngles(), options: options,
            format: PreprocessFiles.Format(rawValue: format) ?? .png,
            threads: threads ?? WorkerPool.defaultThreadCount)
        let progress = ProgressBar(title: "preprocess", total: files.count)
        // The pool blocks its caller; keep it off Swift's cooperative threads.
        let summary = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: job.run(progress: progress)) }.start()
        }
        for failure in summary.failures {
            FileHandle.standardError.write(Data("failed: \(failure)\n".utf8))
        }
        let rate = Double(summary.files) / max(summary.seconds, 1e-9)
        print(
            "preprocessed \(summary.files - summary.failures.count) of \(summary.files) files"
                + " at \(job.angles.count) angle(s): \(summary.written) \(format) files in \(output),"
                + " \(summary.failures.count) failed, "
                + String(format: "%.1f s (%.0f files/s)", summary.seconds, rate))
        if !summary.failures.isEmpty { throw ExitCode(1) }
    }
}
