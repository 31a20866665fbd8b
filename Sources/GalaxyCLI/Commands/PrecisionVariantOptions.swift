import ArgumentParser
import Foundation
import GalaxyCore
import GalaxyEngine
import GalaxyTraining

extension Precision: ExpressibleByArgument {}

/// `galaxy model add --precision bf16 (--check-data DIR | --check-from-db)`: makes the reduced-
/// precision variant of an fp32 model and keeps it only when it passes the accuracy guard
/// (`PrecisionCheck`) on labelled images.
struct PrecisionVariantOptions: ParsableArguments {
    @Option(help: "Arithmetic of the convolutions: fp32, or bf16 (checked against fp32 first).")
    var precision: Precision = .fp32

    @Option(help: "With --precision bf16: a data set directory (catalog.csv with labels, images) to check the variant on.")
    var checkData: String?

    @Flag(help: "With --precision bf16: check the variant on the labelled rows of galaxy.images.")
    var checkFromDb = false

    @Option(help: "Column of the label in --check-data's catalog (default: label).")
    var checkLabelColumn: String?

    @Option(help: "Check only on the images held out by the stable hash of their id, for example 0.2 (the training split).")
    var checkHeldOutFraction: Double?

    @Option(help: "Worker threads for the check (default: all cores, or GALAXY_THREADS).")
    var checkThreads: Int?

    func validate() throws {
        if precision == .fp32 {
            guard checkData == nil, !checkFromDb, checkHeldOutFraction == nil else {
                throw ValidationError("'--check-data', '--check-from-db' and '--check-held-out-fraction' go with '--precision bf16'.")
            }
            return
        }
        if (checkData == nil) == !checkFromDb {
            throw ValidationError(
                "'--precision \(precision.rawValue)' needs labelled images to check the variant on: give exactly one of "
                    + "'--check-data DIR' or '--check-from-db'.")
        }
        if let f = checkHeldOutFraction, !(f > 0 && f <= 1) {
            throw ValidationError("'--check-held-out-fraction' must be in (0, 1], for example 0.2 (got \(f)).")
        }
        if let checkThreads, checkThreads < 1 { throw ValidationError("Please specify a '--check-threads' of at least 1.") }
    }

    /// The bytes of the checked variant of the fp32 model `onnx`: the same file with
    /// `galaxy.precision` and `galaxy.precision_check` added.
    /// - Throws: `ServiceCommandError` when the model cannot be loaded, no image can be read, or
    ///   the variant fails the check (with the figures); nothing is added then.
    func checkedVariant(of onnx: [UInt8], file: String, database: String?, tool: String) throws -> [UInt8] {
        let original: InferenceModel
        let variant: InferenceModel
        do {
            let proto = try ONNX.ModelProto(serialized: onnx)
            original = try InferenceModel(model: proto, precision: .fp32)
            variant = try InferenceModel(model: proto, precision: precision)
        } catch {
            throw ServiceCommandError(description: "the model in \(file) cannot be used: \(error). Nothing was added or written.")
        }
        let selection = try LabelledImageSelection(
            directory: checkData, labelColumn: checkLabelColumn, database: database, heldOutFraction: checkHeldOutFraction,
            applicationName: "galaxy \(tool)", flags: ("--check-data", "--check-from-db"))
        let (images, source) = (selection.images, selection.source)
        guard !images.isEmpty else {
            throw ServiceCommandError(description: "\(source) has no labelled images to check the \(precision.rawValue) variant on. Nothing was added or written.")
        }
        let described = source + (checkHeldOutFraction.map { " held out at \($0)" } ?? "")
        let threads = checkThreads ?? WorkerPool.defaultThreadCount
        FileHandle.standardError.write(
            Data("\(tool): checking the \(precision.rawValue) variant of \(file) against fp32 on \(images.count) images from \(described)\n".utf8))
        KernelAnnouncement.write(for: tool)
        let report = try PrecisionCheck.run(
            original: original, variant: variant, images: images, source: described, threads: threads,
            progress: { ProgressBar(title: "check \($0.rawValue)", total: images.count) })
        func pct(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }
        FileHandle.standardError.write(
            Data(
                ("\(tool): \(precision.rawValue) against fp32 on \(report.images) images: high-level agreement \(pct(report.highLevelAgreement)), "
                    + "low-level agreement \(pct(report.lowLevelAgreement)), high-level accuracy \(pct(report.fp32HighLevelAccuracy)) -> "
                    + "\(pct(report.variantHighLevelAccuracy))\n").utf8))
        guard report.passed else {
            throw ServiceCommandError(
                description: "the \(precision.rawValue) variant of \(file) is refused: \(report.shortfalls.joined(separator: "; ")). "
                    + "Nothing was added or written; keep the fp32 model.")
        }
        return ONNX.appendingMetadata(
            [.init(key: ModelMetadata.Key.precision, value: precision.rawValue), .init(key: ModelMetadata.Key.precisionCheck, value: report.json)],
            to: onnx)
    }
}
