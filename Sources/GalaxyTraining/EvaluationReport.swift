import Foundation

/// What `galaxy evaluate` prints and writes: the evaluation with the run's context (model, data,
/// machine, skipped images), as text, SVG and JSON.
public struct EvaluationReport: Sendable, Codable {
    /// The model evaluated.
    public struct Model: Sendable, Codable, Hashable {
        /// Its file path, or what the shipped default model is called.
        public var name: String
        /// SHA-256 of its ONNX bytes.
        public var sha256: String

        public init(name: String, sha256: String) {
            self.name = name
            self.sha256 = sha256
        }
    }

    public var model: Model
    /// Where the labelled images came from (`--data DIR`, `galaxy.images`).
    public var source: String
    public var cpu: String
    public var threads: Int
    /// Test-time rotations (degrees); `[0]` for none.
    public var rotations: [Double]
    /// `--held-out-fraction`, when only held-out images were evaluated.
    public var heldOutFraction: Double?
    /// Labelled images found before the held-out filter.
    public var labelledImages: Int
    /// Images classified (evaluated plus failed).
    public var classifiedImages: Int
    /// Images that failed to decode, skipped.
    public var failures: [EvaluationFailure]
    /// Rows whose label text was empty, skipped.
    public var unlabelled: Int
    public var evaluation: Evaluation

    public init(
        model: Model, source: String, cpu: String, threads: Int, rotations: [Double],
        heldOutFraction: Double?, labelledImages: Int,
        run: ModelEvaluation
    ) {
        self.model = model
        self.source = source
        self.cpu = cpu
        self.threads = threads
        self.rotations = rotations
        self.heldOutFraction = heldOutFraction
        self.labelledImages = labelledImages
        classifiedImages = run.evaluation.imageCount + run.failures.count
        failures = run.failures
        unlabelled = run.unlabelled
        evaluation = run.evaluation
    }

    /// The header (model, data, machine, failures) and the evaluation's text.
    public var text: String {
        var lines = [
            "model: \(model.name) (sha256 \(model.sha256))",
            "data: \(source): \(classifiedImages) images"
                + (heldOutFraction.map { " held out at fraction \($0) of \(labelledImages) labelled" } ?? "")
                + (rotations == [0]
                    ? ""
                    : ", test-time rotations \(rotations.map { String(format: "%g", $0) }.joined(separator: ","))"),
            "machine: \(cpu), \(threads) threads",
            "failed to decode: \(failures.count)" + (failures.isEmpty ? "" : " (skipped)"),
        ]
        lines += failures.map { "  \($0.source): \($0.error)" }
        if unlabelled > 0 { lines.append("unlabelled rows skipped: \(unlabelled)") }
        return (lines + ["", evaluation.text]).joined(separator: "\n")
    }

    /// Matrices and reliability diagrams, titled with the model and data.
    public var svg: String {
        evaluation.svg(
            title:
                "galaxy evaluate: \(model.name) (sha256 \(model.sha256.prefix(12))) on \(source), \(classifiedImages) images, \(failures.count) failed"
        )
    }

    /// Every number, for scripts; figures that are undefined (precision of a class never predicted,
    /// an empty bin's accuracy) are absent.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
