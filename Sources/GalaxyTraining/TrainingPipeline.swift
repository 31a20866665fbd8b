import Foundation
import GalaxyCore
import GalaxyImage

/// Everything `galaxy train` does between "here are labelled JPEGs" and "here is the model":
/// read the targets, split, preprocess, train, evaluate, report, export.
public struct TrainingPipeline {
    public var options: TrainingOptions
    public var preprocess: PreprocessOptions
    public var architecture: Architecture
    public var vocabulary: LabelVocabulary
    public var testFraction: Double = 0.2
    /// Images whose id `HashSplit` holds out at this fraction never train nor pick the epoch: they
    /// are kept apart for `galaxy evaluate --held-out-fraction` (nil: use every image).
    public var heldOutFraction: Double?
    /// Without augmentation: the rotations of every training image, preprocessed once (degrees).
    public var rotations: [Double] = [0, 45, 90]
    /// Draw every training sample anew each epoch with these settings (nil: fixed rotations and
    /// random mirroring).
    public var augmentation: AugmentationSettings?
    /// Sample every target group (label, class or set) equally often within each data source.
    public var classBalance = false
    /// Sampling weight of each data source's images, by `LabeledImage.dataSource` (missing: 1).
    public var sourceWeights: [Double] = []
    /// Where to write a checkpoint after every epoch.
    public var checkpoint: URL?
    public var resume: Checkpoint?
    public var log: @Sendable (String) -> Void = { _ in }

    public init(options: TrainingOptions, preprocess: PreprocessOptions = PreprocessOptions(), vocabulary: LabelVocabulary = .standard) {
        self.options = options
        self.preprocess = preprocess
        self.vocabulary = vocabulary
        architecture = Architecture(inputSize: preprocess.size, classes: vocabulary.count)
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
        /// Draws augmented training samples (nil without augmentation).
        public var render: (any SampleRendering)?
        /// One sampling weight per training sample (nil: every sample once per epoch).
        public var samplingWeights: [Double]?
    }

    /// Reads every image's target, splits by seed (stratified by target), and preprocesses.
    /// - Throws: `TrainingError` for labels outside the vocabulary (naming file and line) or no images.
    public func prepare(_ all: [LabeledImage]) throws -> Prepared {
        let parser = TargetParser(vocabulary: vocabulary)
        var images: [LabeledImage] = []
        var targets: [TrainingTarget] = []
        var heldOut = 0
        for image in all {
            guard let target = try image.target(using: parser) else { continue }
            if let heldOutFraction, HashSplit.isHeldOut(id: image.id, fraction: heldOutFraction) {
                heldOut += 1
                continue
            }
            images.append(image)
            targets.append(target)
        }
        guard !images.isEmpty else { throw TrainingError.noData("no labelled images were found") }
        if heldOut > 0 { log("\(heldOut) images held out by id hash (fraction \(heldOutFraction!)) for evaluation; they do not train") }
        // Stratify by target group within each source, so every source keeps its share in both splits.
        var groupIndex: [String: Int] = [:]
        let groups = zip(images, targets).map { image, target in
            let key = "\(image.dataSource)/\(target.groupKey(in: vocabulary))"
            if let g = groupIndex[key] { return g }
            groupIndex[key] = groupIndex.count
            return groupIndex.count - 1
        }
        let (trainIDs, testIDs) = TrainingData.split(count: images.count, labels: groups, testFraction: testFraction, seed: options.seed)
        let trainRotations = augmentation == nil ? rotations : [0]
        let copies = augmentation == nil ? "x\(rotations.count) rotations, random mirroring" : "augmented: \(augmentation!.description)"
        log("\(images.count) labelled images: \(trainIDs.count) train (\(copies)), \(testIDs.count) test")
        let started = Date()
        let threads = options.threads
        let train = TrainingData.preprocess(
            trainIDs.map { images[$0] }, targets: trainIDs.map { targets[$0] }, classes: vocabulary.count, rotations: trainRotations,
            options: preprocess, threads: threads, title: "preprocess train", showProgress: options.showProgress)
        let test = TrainingData.preprocess(
            testIDs.map { images[$0] }, targets: testIDs.map { targets[$0] }, classes: vocabulary.count, rotations: [0],
            options: preprocess, threads: threads, title: "preprocess test", showProgress: options.showProgress)
        let keptTrain = train.kept.map { trainIDs[$0] }
        var render: (any SampleRendering)?
        if let augmentation {
            render = try AugmentedSamples(
                keptTrain.map { images[$0].jpeg }, sources: keptTrain.map { images[$0].source }, settings: augmentation,
                options: preprocess, threads: threads)
        }
        let skipped = train.failures + test.failures
        for failure in skipped.prefix(5) { log("skipped \(failure.source): \(failure.error)") }
        if skipped.count > 5 { log("skipped \(skipped.count - 5) more images that failed to decode") }
        let weights = samplingWeights(
            images: keptTrain.map { images[$0] }, groups: keptTrain.map { groups[$0] }, copies: trainRotations.count)
        return Prepared(
            train: train.set, test: test.set, trainImages: train.kept.count, testImages: test.kept.count, skipped: skipped,
            preprocessSeconds: Date().timeIntervalSince(started), render: render, samplingWeights: weights)
    }

    /// Per training sample: its source's weight, times, with class balance, the inverse share of
    /// its target group within the source (so each group of a source is drawn equally often).
    /// Nil when every weight would be equal, which trains on a plain permutation.
    func samplingWeights(images: [LabeledImage], groups: [Int], copies: Int) -> [Double]? {
        var perImage = images.map { sourceWeights.indices.contains($0.dataSource) ? sourceWeights[$0.dataSource] : 1 }
        if classBalance {
            var groupCounts: [Int: Int] = [:]
            var groupsPerSource: [Int: Set<Int>] = [:]
            var sourceCounts: [Int: Int] = [:]
            for (image, g) in zip(images, groups) {
                groupCounts[g, default: 0] += 1
                groupsPerSource[image.dataSource, default: []].insert(g)
                sourceCounts[image.dataSource, default: 0] += 1
            }
            for i in images.indices {
                let source = images[i].dataSource
                let share = Double(groupCounts[groups[i]]!) / Double(sourceCounts[source]!)
                perImage[i] /= share * Double(groupsPerSource[source]!.count)
            }
        }
        guard Set(perImage).count > 1 else { return nil }
        return perImage.flatMap { Array(repeating: $0, count: copies) }
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
        let outcome = try loop.run(
            train: prepared.train, test: prepared.test, checkpoint: checkpoint, render: prepared.render,
            samplingWeights: prepared.samplingWeights)
        let trainSeconds = Date().timeIntervalSince(trainStarted)
        let report = TrainingReport(
            history: outcome.history, vocabulary: vocabulary, targets: (0..<prepared.test.count).map(prepared.test.target),
            probabilities: outcome.testProbabilities, bestEpoch: outcome.bestEpoch)
        let onnx = ONNXExport.serialized(
            architecture: architecture, parameters: outcome.parameters,
            metadata: ExportMetadata(
                vocabulary: vocabulary, cropFraction: preprocess.cropFraction, decodeScale: preprocess.decodeScale,
                training: provenance))
        let samples = outcome.history.reduce(0) { $0 + $1.train.samples }
        let seconds = outcome.history.reduce(0) { $0 + $1.seconds }
        return Result(
            outcome: outcome, report: report, onnx: onnx, trainImages: prepared.trainImages, testImages: prepared.testImages,
            skipped: prepared.skipped, preprocessSeconds: prepared.preprocessSeconds, trainSeconds: trainSeconds,
            trainingImagesPerSecond: Double(samples) / max(seconds, 1e-9))
    }
}
