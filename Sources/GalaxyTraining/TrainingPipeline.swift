import Foundation
import GalaxyCore
import GalaxyImage

/// Everything `galaxy train` does between "here are labelled JPEGs" and "here is the model":
/// split, preprocess (rotated copies once, up front), train, evaluate, report, export.
public struct TrainingPipeline {
    public var options: TrainingOptions
    public var preprocess: PreprocessOptions
    public var architecture: Architecture
    public var labels: [String]
    public var testFraction: Double = 0.2
    /// The augmentation rotations of every training image (degrees, counterclockwise).
    public var rotations: [Double] = [0, 45, 90]
    /// Where to write a checkpoint after every epoch.
    public var checkpoint: URL?
    public var resume: Checkpoint?
    public var log: @Sendable (String) -> Void = { _ in }

    public init(options: TrainingOptions, preprocess: PreprocessOptions = PreprocessOptions(), labels: [String] = GalaxyLabels.standard) {
        self.options = options
        self.preprocess = preprocess
        self.labels = labels
        architecture = Architecture(inputSize: preprocess.size, classes: labels.count)
    }

    public struct Result: Sendable {
        public var outcome: TrainingOutcome
        public var report: TrainingReport
        public var onnx: [UInt8]
        public var trainImages: Int
        public var testImages: Int
        public var skipped: [(source: String, error: ImageError)]
        /// Seconds spent preprocessing and training.
        public var preprocessSeconds: Double
        public var trainSeconds: Double
        /// Training samples (augmented copies) per second over all epochs.
        public var trainingImagesPerSecond: Double
    }

    /// Split and preprocessed samples, ready to train on.
    public struct Prepared: Sendable {
        public var train: SampleSet
        public var test: SampleSet
        public var trainImages: Int
        public var testImages: Int
        public var skipped: [(source: String, error: ImageError)]
        public var preprocessSeconds: Double
    }

    /// Splits by seed and preprocesses every training image once per rotation, every test image once.
    /// - Throws: `TrainingError` for unknown labels or no images.
    public func prepare(_ images: [LabeledImage]) throws -> Prepared {
        guard !images.isEmpty else { throw TrainingError.noData("no labelled images were found") }
        var indices: [Int] = []
        for image in images {
            guard let index = labels.firstIndex(of: image.label) else {
                throw TrainingError.image(path: image.source, reason: "label '\(image.label)' is not one of \(labels.joined(separator: ", "))")
            }
            indices.append(index)
        }
        let (trainIDs, testIDs) = TrainingData.split(count: images.count, labels: indices, testFraction: testFraction, seed: options.seed)
        log("\(images.count) labelled images: \(trainIDs.count) train (x\(rotations.count) rotations, random mirroring), \(testIDs.count) test")
        let started = Date()
        let threads = options.threads
        let train = TrainingData.preprocess(
            trainIDs.map { images[$0] }, labelIndices: trainIDs.map { Int32(indices[$0]) }, rotations: rotations,
            options: preprocess, threads: threads, title: "preprocess train", showProgress: options.showProgress)
        let test = TrainingData.preprocess(
            testIDs.map { images[$0] }, labelIndices: testIDs.map { Int32(indices[$0]) }, rotations: [0],
            options: preprocess, threads: threads, title: "preprocess test", showProgress: options.showProgress)
        let skipped = train.failures + test.failures
        for failure in skipped.prefix(5) { log("skipped \(failure.source): \(failure.error)") }
        if skipped.count > 5 { log("skipped \(skipped.count - 5) more images that failed to decode") }
        return Prepared(
            train: train.set, test: test.set, trainImages: trainIDs.count, testImages: testIDs.count, skipped: skipped,
            preprocessSeconds: Date().timeIntervalSince(started))
    }

    /// Prepares and trains.
    /// - Throws: `TrainingError` for unknown labels, empty splits or checkpoint problems.
    public func run(_ images: [LabeledImage], provenance: String? = nil) throws -> Result {
        try train(prepare(images), provenance: provenance)
    }

    /// Trains on prepared samples, evaluates the best epoch on the test set and exports it.
    public func train(_ prepared: Prepared, provenance: String? = nil) throws -> Result {
        let loop = try TrainingLoop(architecture: architecture, options: options, resume: resume, log: log)
        let trainStarted = Date()
        let outcome = try loop.run(train: prepared.train, test: prepared.test, checkpoint: checkpoint)
        let trainSeconds = Date().timeIntervalSince(trainStarted)
        let report = TrainingReport(
            history: outcome.history, labels: labels, truths: prepared.test.labels.map(Int.init),
            predictions: outcome.testPredictions, bestEpoch: outcome.bestEpoch)
        let onnx = ONNXExport.serialized(
            architecture: architecture, parameters: outcome.parameters,
            metadata: ExportMetadata(
                labels: labels, cropFraction: preprocess.cropFraction, decodeScale: preprocess.decodeScale,
                training: provenance))
        let samples = outcome.history.reduce(0) { $0 + $1.train.samples }
        let seconds = outcome.history.reduce(0) { $0 + $1.seconds }
        return Result(
            outcome: outcome, report: report, onnx: onnx, trainImages: prepared.trainImages, testImages: prepared.testImages,
            skipped: prepared.skipped, preprocessSeconds: prepared.preprocessSeconds, trainSeconds: trainSeconds,
            trainingImagesPerSecond: Double(samples) / max(seconds, 1e-9))
    }
}
