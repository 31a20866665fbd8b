import ArgumentParser
import Foundation
import GalaxyCore
import GalaxyImage
import GalaxyTraining

/// Trains the default network on a generated data set and reports training images/second and
/// held-out accuracy as JSON; with `--dump` it also writes the exact preprocessed tensors, so the
/// PyTorch reference in scripts/bench-train trains on the same samples.
struct TrainBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Benchmark: training throughput and held-out accuracy.")

    @Option(help: "Data set directory (catalog.csv + images/).") var data: String
    @Option var epochs = 3
    @Option var batchSize = 64
    @Option var threads = WorkerPool.defaultThreadCount
    @Option var seed: UInt64 = 1
    @Option var lr: Float?
    @Option var optimizer = "adam"
    @Option var decodeScale = "1"
    @Option var testFraction = 0.2
    @Option(help: "Write train/test tensors and labels here (float32/int32 little-endian) for the reference.") var dump: String?
    @Option(help: "Write the result JSON here.") var json: String?
    @Flag(help: "Only preprocess and dump; do not train.") var dumpOnly = false

    func run() async throws {
        guard let kind = OptimizerKind(rawValue: optimizer) else { throw ValidationError("'--optimizer' must be adam or sgd") }
        guard let scale = DecodeScale(metadataValue: decodeScale) else { throw ValidationError("'--decode-scale' must be 1, 1/2, 1/4 or 1/8") }
        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = batchSize
        options.threads = threads
        options.seed = seed
        options.optimizer = OptimizerSettings(kind: kind, learningRate: lr)
        // Like the reference: a fixed number of epochs, the last one evaluated.
        options.keepBestEpoch = false
        var preprocess = PreprocessOptions()
        preprocess.decodeScale = scale
        var pipeline = TrainingPipeline(options: options, preprocess: preprocess)
        pipeline.testFraction = testFraction
        pipeline.log = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        let images = try TrainingData.loadDirectory(URL(fileURLWithPath: data))
        let prepared = try pipeline.prepare(images)
        if let dump {
            let dir = URL(fileURLWithPath: dump)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try write(prepared.train.features, to: dir.appendingPathComponent("train_x.f32"))
            try write(prepared.train.labels, to: dir.appendingPathComponent("train_y.i32"))
            try write(prepared.test.features, to: dir.appendingPathComponent("test_x.f32"))
            try write(prepared.test.labels, to: dir.appendingPathComponent("test_y.i32"))
            // The initial weights, so the reference starts from the same point.
            let layout = ParameterLayout(pipeline.architecture)
            try write(layout.initialParameters(seed: seed), to: dir.appendingPathComponent("init.f32"))
            let meta: [String: Any] = [
                "parameters": layout.tensors.map { ["name": $0.name, "shape": $0.shape, "offset": $0.offset] as [String: Any] },
                "labels": GalaxyLabels.standard, "high_level": GalaxyLabels.standard.map(GalaxyLabels.highLevelClass(of:)),
                "high_level_classes": GalaxyLabels.highLevelClasses, "input_size": preprocess.size,
                "train_count": prepared.train.count, "test_count": prepared.test.count,
            ]
            try JSONSerialization.data(withJSONObject: meta, options: [.prettyPrinted, .sortedKeys]).write(to: dir.appendingPathComponent("meta.json"))
        }
        if dumpOnly { return }
        let result = try pipeline.train(prepared)
        let rates = result.outcome.history.map(\.imagesPerSecond).sorted()
        let median = rates.isEmpty ? 0 : (rates.count % 2 == 1 ? rates[rates.count / 2] : (rates[rates.count / 2 - 1] + rates[rates.count / 2]) / 2)
        let last = result.outcome.history.last!
        // Accuracy of the final epoch (what the reference reports too), not the early-stopping pick.
        let summary: [String: Any] = [
            "implementation": "galaxy",
            "epochs": epochs, "batch_size": batchSize, "threads": threads, "optimizer": optimizer,
            "learning_rate": Double(options.optimizer.learningRate), "decode_scale": decodeScale,
            "train_samples": prepared.train.count, "test_samples": prepared.test.count,
            "images_per_second_per_epoch": result.outcome.history.map(\.imagesPerSecond),
            "images_per_second_median": median,
            "final_test_accuracy_low": last.test.accuracy,
            "best_epoch": result.outcome.bestEpoch,
            "test_accuracy_low": result.report.lowLevel.accuracy,
            "test_accuracy_high": result.report.highLevel.accuracy,
            "confusion_low": result.report.lowLevel.counts,
            "confusion_high": result.report.highLevel.counts,
            "preprocess_seconds": result.preprocessSeconds,
        ]
        let text = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
        if let json { try text.write(to: URL(fileURLWithPath: json)) }
        print(String(decoding: text, as: UTF8.self))
        FileHandle.standardError.write(Data((result.report.text + "\n").utf8))
    }

    private func write<T>(_ values: [T], to url: URL) throws {
        try values.withUnsafeBytes { Data($0) }.write(to: url)
    }
}
