import ArgumentParser
import Foundation
import GalaxyCore
import GalaxyImage
import GalaxyTraining

/// Trains the default network on a generated data set and reports training images/second and
/// held-out accuracy as JSON; with `--dump` it also writes the exact preprocessed tensors, the
/// initial weights and every epoch's sample order and mirror flags, so the PyTorch reference in
/// scripts/bench-train trains on the same samples in the same order. `--trace-steps N` instead
/// runs only the first N optimiser steps of epoch 1 and dumps the loss, gradient and weights after
/// each (for scripts/check-train-step).
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
    @Option(help: "With --dump: run only the first N steps of epoch 1 and dump loss, gradient and weights after each.") var traceSteps: Int?

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
            // The order and mirroring the training loop uses in every epoch, for the reference to replay.
            for epoch in 1...max(epochs, 1) {
                let plan = TrainingLoop.epochPlan(seed: seed, epoch: epoch, count: prepared.train.count, randomMirror: options.randomMirror)
                try write(plan.order.map { Int32($0) }, to: dir.appendingPathComponent("order_\(epoch).i32"))
                try write(plan.mirrored.map { UInt8($0 ? 1 : 0) }, to: dir.appendingPathComponent("mirror_\(epoch).u8"))
            }
            if let traceSteps {
                try trace(steps: traceSteps, options: options, architecture: pipeline.architecture, train: prepared.train, to: dir)
                return
            }
        } else if traceSteps != nil {
            throw ValidationError("'--trace-steps' needs '--dump'")
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
            "final_test_loss": last.test.loss,
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

    /// The first `steps` optimiser steps of epoch 1, exactly as `TrainingLoop.run` takes them:
    /// `trace.json` (mean loss and batch of every step) and, for step k, `trace_grad_k.f32` (the
    /// batch-mean gradient) and `trace_params_k.f32` (the weights after the update).
    private func trace(steps: Int, options: TrainingOptions, architecture: Architecture, train: SampleSet, to dir: URL) throws {
        let trainer = NetworkTrainer(
            architecture: architecture, optimizer: options.optimizer, batchSize: options.batchSize,
            threads: options.threads, seed: options.seed)
        let plan = TrainingLoop.epochPlan(seed: options.seed, epoch: 1, count: train.count, randomMirror: options.randomMirror)
        var losses: [Double] = []
        var batches: [[Int]] = []
        var start = 0
        for k in 1...max(steps, 1) where start < train.count {
            let end = min(train.count, start + options.batchSize)
            let r = trainer.step(set: train, indices: plan.order[start..<end], mirrored: plan.mirrored[start..<end])
            losses.append(r.loss / Double(end - start))
            batches.append([start, end])
            try write(trainer.summedGradient, to: dir.appendingPathComponent("trace_grad_\(k).f32"))
            try write(trainer.parameters, to: dir.appendingPathComponent("trace_params_\(k).f32"))
            start = end
        }
        let summary: [String: Any] = [
            "steps": losses.count, "loss": losses, "batches": batches, "threads": trainer.threads,
            "learning_rate": Double(options.optimizer.learningRate), "optimizer": options.optimizer.kind.rawValue,
        ]
        try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys]).write(to: dir.appendingPathComponent("trace.json"))
    }

    private func write<T>(_ values: [T], to url: URL) throws {
        try values.withUnsafeBytes { Data($0) }.write(to: url)
    }
}
