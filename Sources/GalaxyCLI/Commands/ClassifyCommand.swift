import ArgumentParser
import Foundation
import GalaxyCore
import GalaxyEngine
import GalaxyService

/// `galaxy classify IMAGE... [--files-from LIST] [--model FILE.onnx] [--tta 0,45,90] [--json]`
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify JPEG files with an ONNX model.",
        discussion: """
            Prints, per image, the low-level label, the high-level class and the class probabilities: \
            a table by default, or one JSON object per line with --json ({"file","label","class",\
            "probabilities"} or {"file","error"}). A bad image reports its error and the others are \
            still classified; the exit status is 1 when any image failed. Without --model the \
            shipped default model is used; standard error says which model classified the images.
            """)

    @Argument(help: "JPEG files to classify.")
    var images: [String] = []

    @Option(
        name: .long,
        help: """
            Also classify the JPEG files this file lists, one path per line ('-': standard input). \
            For thousands of files: the argument parser takes time quadratic in their number, and \
            the system limits the length of a command line.
            """)
    var filesFrom: String?

    @Option(name: .long, help: "The ONNX model file (default: the shipped default model).")
    var model: String?

    @Option(name: .long, help: "Test-time augmentation: rotations in degrees, comma-separated (for example 0,45,90); probabilities are averaged.")
    var tta: String?

    @Flag(name: .long, help: "One JSON object per line instead of a table.")
    var json = false

    @Option(name: .long, help: "Worker threads (default: all cores, or GALAXY_THREADS).")
    var threads: Int?

    func validate() throws {
        if images.isEmpty && filesFrom == nil {
            throw ValidationError("Please give at least one JPEG file to classify, as arguments or with --files-from.")
        }
        if let threads, threads < 1 { throw ValidationError("Please specify a '--threads' of at least 1.") }
        _ = try rotations()
    }

    func rotations() throws -> [Double] { try RotationList.parse(tta) }

    /// Files read, classified and printed together.
    static let filesPerBlock = 1024

    /// The arguments, then the paths `--files-from` lists (one per line, blank lines skipped).
    func paths() throws -> [String] {
        guard let filesFrom else { return images }
        let data = filesFrom == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: filesFrom)
        guard let data, let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("Cannot read the file list '\(filesFrom)': it must be a readable UTF-8 text file, one path per line.")
        }
        let listed = text.split(whereSeparator: \.isNewline).map(String.init)
        if images.isEmpty && listed.isEmpty { throw ValidationError("The file list '\(filesFrom)' names no files.") }
        return images + listed
    }

    func run() throws {
        let images = try paths()
        let choice = try ModelChoice.load(path: model)
        let engine = choice.engine
        // Standard error, so the table and the JSON lines stay as they were for scripts.
        FileHandle.standardError.write(Data("classify: model \(choice.summary)\n".utf8))
        KernelAnnouncement.write(for: "classify")
        let classifier = Classifier(model: engine, threads: threads ?? WorkerPool.defaultThreadCount)

        let rotations = try rotations()
        let table = ClassifyTable(labels: engine.metadata.labels, fileWidth: images.map(\.count).max() ?? 4)
        if !json { print(table.header) }
        var failures = 0
        // A block of files at a time: memory holds one block's JPEGs, not every file's, and each
        // block's lines are out before the next is read.
        for start in stride(from: 0, to: images.count, by: Self.filesPerBlock) {
            let block = images[start..<min(start + Self.filesPerBlock, images.count)]
            // Files that cannot be read are reported like images that cannot be decoded.
            var readErrors: [Int: String] = [:]
            var jpegs: [[UInt8]] = []
            for (i, path) in block.enumerated() {
                if let data = FileManager.default.contents(atPath: path) {
                    jpegs.append([UInt8](data))
                } else {
                    readErrors[i] = "cannot read file"
                    jpegs.append([])
                }
            }
            for (i, result) in classifier.classify(jpegs, rotations: rotations).enumerated() {
                let file = block[start + i]
                switch result {
                case .success(let prediction):
                    print(json ? ClassifyJSON.line(file: file, prediction: prediction) : table.row(file: file, prediction: prediction))
                case .failure(let error):
                    failures += 1
                    let message = readErrors[i] ?? error.imageError.description
                    print(json ? ClassifyJSON.line(file: file, error: message) : table.row(file: file, error: message))
                }
            }
            fflush(nil)  // all C streams: print writes through stdout
        }
        if failures > 0 {
            FileHandle.standardError.write(Data("classify: \(failures) of \(images.count) images failed\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// The readable table: file, label, class, then one probability column per label.
struct ClassifyTable {
    let labels: [String]
    let fileWidth: Int

    var header: String {
        (["file".padding(toLength: max(4, fileWidth), withPad: " ", startingAt: 0), "label".padding(toLength: 6, withPad: " ", startingAt: 0), "class".padding(toLength: 13, withPad: " ", startingAt: 0)]
            + labels.map { pad($0, 6) }).joined(separator: " ")
    }

    func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    func row(file: String, prediction: Prediction) -> String {
        ([file.padding(toLength: max(4, fileWidth), withPad: " ", startingAt: 0), prediction.label.padding(toLength: max(6, prediction.label.count), withPad: " ", startingAt: 0),
          prediction.galaxyClass.padding(toLength: max(13, prediction.galaxyClass.count), withPad: " ", startingAt: 0)]
            + prediction.scores.enumerated().map { pad(String(format: "%.3f", $0.element), max(6, labels[$0.offset].count)) })
            .joined(separator: " ")
    }

    func row(file: String, error: String) -> String {
        "\(file.padding(toLength: max(4, fileWidth), withPad: " ", startingAt: 0)) error: \(error)"
    }
}

/// One JSON object per line, keys in a fixed order and probabilities in label order.
enum ClassifyJSON {
    static func quote(_ s: String) -> String { JSONText.string(s) }

    static func line(file: String, prediction: Prediction) -> String {
        let probabilities = zip(prediction.labels, prediction.scores).map { "\(quote($0.0)):\($0.1)" }.joined(separator: ",")
        return "{\"file\":\(quote(file)),\"label\":\(quote(prediction.label)),\"class\":\(quote(prediction.galaxyClass)),\"probabilities\":{\(probabilities)}}"
    }

    static func line(file: String, error: String) -> String {
        "{\"file\":\(quote(file)),\"error\":\(quote(error))}"
    }
}
