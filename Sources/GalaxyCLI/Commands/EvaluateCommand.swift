import ArgumentParser
import Foundation
import GalaxyCore
import GalaxyEngine
import GalaxyTraining

/// `galaxy evaluate [--model M] (--data DIR | --from-db) [--out report.svg] [--json] ...`
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a model on labelled images: accuracy, precision/recall/F1 and calibration.",
        discussion: """
            Classifies every labelled image with the model (preprocessed as its metadata says) and \
            reports three levels: the model's labels, their high-level classes and the morphology \
            (Elliptical, disk, Ambiguous). A label such as Spiral or a set such as Sa|Sb counts as \
            right when the prediction is any of its members. Prints confusion matrices, per-class \
            precision, recall and F1, macro-F1 and the expected calibration error (15 bins); --out \
            writes the matrices and reliability diagrams as SVG, --json prints every number as JSON \
            instead. Images that fail to decode are listed and skipped. Without --model the shipped \
            default model is evaluated. See docs/training.md, "Evaluation".
            """)

    @Option(help: "The ONNX model file (default: the shipped default model).")
    var model: String?

    @Option(help: "A data set directory with catalog.csv and images/ (as written by `galaxy synth`).")
    var data: String?

    @Flag(help: "Evaluate on the rows of galaxy.images that have a label.")
    var fromDb = false

    @Option(help: "Column of the label in the catalog (default: label).")
    var labelColumn: String?

    @Option(help: "PostgreSQL connection URL for --from-db (default: DATABASE_URL or libpq's PG* variables).")
    var database: String?

    @Option(help: "Write the confusion matrices and reliability diagrams to this SVG file.")
    var out: String?

    @Flag(help: "Print the report as one JSON object instead of text.")
    var json = false

    @Option(help: "Worker threads (default: all cores, or GALAXY_THREADS).")
    var threads: Int?

    @Option(
        help:
            "Test-time augmentation: rotations in degrees, comma-separated (for example 0,45,90); probabilities are averaged."
    )
    var tta: String?

    @Option(
        help:
            "Evaluate only the images held out by the stable hash of their catalog id (FNV-1a), for example 0.2."
    )
    var heldOutFraction: Double?

    @Flag(help: "No progress bar.")
    var quiet = false

    func validate() throws {
        if (data == nil) == !fromDb {
            throw ValidationError("Please give exactly one of '--data DIR' or '--from-db'.")
        }
        if let threads, threads < 1 { throw ValidationError("Please specify a '--threads' of at least 1.") }
        if let heldOutFraction, !(heldOutFraction > 0 && heldOutFraction <= 1) {
            throw ValidationError(
                "'--held-out-fraction' must be in (0, 1], for example 0.2 (got \(heldOutFraction)).")
        }
        _ = try RotationList.parse(tta)
    }

    func run() throws {
        let choice = try ModelChoice.load(path: model)
        let threads = threads ?? WorkerPool.defaultThreadCount
        let rotations = try RotationList.parse(tta)
        let selection = try LabelledImageSelection(
            directory: data, labelColumn: labelColumn, database: database, heldOutFraction: heldOutFraction,
            applicationName: "galaxy evaluate")
        let (loaded, images, source) = (selection.loaded, selection.images, selection.source)
        guard !images.isEmpty else {
            throw ValidationError(
                loaded.isEmpty
                    ? "\(source) has no labelled images to evaluate."
                    : "none of the \(loaded.count) labelled images is held out at --held-out-fraction \(heldOutFraction!); raise it."
            )
        }

        let note =
            "evaluate: model \(choice.summary); \(images.count) images from \(source)"
            + (heldOutFraction.map { " (held out at \($0) of \(loaded.count))" } ?? "")
            + "; \(threads) threads on \(CPUDescription.current)"
        FileHandle.standardError.write(Data((note + "\n").utf8))
        KernelAnnouncement.write(for: "evaluate")
        let bar = quiet ? nil : ProgressBar(title: "evaluate", total: images.count)
        let run = try ModelEvaluation.run(
            model: choice.engine, images: images, rotations: rotations, threads: threads, progress: bar)

        let report = EvaluationReport(
            model: .init(name: choice.name, sha256: choice.sha256), source: source,
            cpu: CPUDescription.current, threads: threads,
            rotations: rotations, heldOutFraction: heldOutFraction, labelledImages: loaded.count, run: run)
        if let out {
            let url = URL(fileURLWithPath: out)
            try report.svg.write(to: url, atomically: true, encoding: .utf8)
            FileHandle.standardError.write(Data("evaluate: wrote \(url.path)\n".utf8))
        }
        print(json ? report.json : report.text)
    }
}
