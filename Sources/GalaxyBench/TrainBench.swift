import ArgumentParser
import Foundation
import GalaxyCore
import GalaxyImage
import GalaxyTraining

/// Trains a network on a data set and reports training images/second and held-out accuracy as
/// JSON; with `--dump` it also writes the exact preprocessed tensors and targets, the initial
/// weights and every epoch's sample order and mirror flags, so the PyTorch references in
/// scripts/bench-train and scripts/bench-train-real train on the same samples in the same order.
/// `--held-out-fraction F` tests on the images the id hash holds out (`HashSplit`) and trains
/// on all the others. `--trace-steps N` instead runs only the first N optimiser steps of epoch 1
/// and dumps the loss, gradient and weights after each (for scripts/check-train-step).
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
    @Option(help: "Network spec or preset (classic, bn-gap); default: the classic network.") var arch: String?
    @Option(help: "AdamW decoupled weight decay of conv and dense weights.") var weightDecay: Float = 0
    @Option(help: "Learning-rate schedule: constant or cosine (per batch, after --warmup-epochs).") var schedule = "constant"
    @Option var warmupEpochs = 1.0
    @Option var labelSmoothing = 0.0
    @Option(help: "Fraction of each side cropped before resizing (default: the preprocessing's).") var cropFraction: Double?
    @Option(help: "Test on the images the id hash holds out at this fraction and train on all others (no --test-fraction split).")
    var heldOutFraction: Double?
    @Option(help: "Write train/test tensors and labels here (float32/int32 little-endian) for the reference.") var dump: String?
    @Option(help: "Write the result JSON here.") var json: String?
    @Flag(help: "Only preprocess and dump; do not train.") var dumpOnly = false
    @Option(help: "With --dump: run only the first N steps of epoch 1 and dump loss, gradient and weights after each.") var traceSteps: Int?

    func run() async throws {
        guard let kind = OptimizerKind(rawValue: optimizer) else { throw ValidationError("'--optimizer' must be adam or sgd") }
        guard let scale = DecodeScale(metadataValue: decodeScale) else { throw ValidationError("'--decode-scale' must be 1, 1/2, 1/4 or 1/8") }
        guard schedule == "constant" || schedule == "cosine" else { throw ValidationError("'--schedule' must be constant or cosine") }
        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = batchSize
        options.threads = threads
        options.seed = seed
        options.optimizer = OptimizerSettings(kind: kind, learningRate: lr, weightDecay: weightDecay)
        options.labelSmoothing = labelSmoothing
        options.cosineWarmupEpochs = schedule == "cosine" ? warmupEpochs : nil
        // Like the reference: a fixed number of epochs, the last one evaluated.
        options.keepBestEpoch = false
        var preprocess = PreprocessOptions()
        preprocess.decodeScale = scale
        if let cropFraction { preprocess.cropFraction = cropFraction }
        if let problem = preprocess.problem { throw ValidationError("preprocessing: \(problem)") }
        var pipeline = TrainingPipeline(options: options, preprocess: preprocess)
        if let arch {
            do { pipeline.architecture = try ArchitectureSpec.parse(arch, base: pipeline.architecture) } catch { throw ValidationError(String(describing: error)) }
        }
        pipeline.testFraction = testFraction
        pipeline.log = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        let images = try TrainingData.loadDirectory(URL(fileURLWithPath: data))
        var prepared: TrainingPipeline.Prepared
        var testIDs: [String] = []
        if let heldOutFraction {
            (prepared, testIDs) = try prepareHeldOut(images, fraction: heldOutFraction, pipeline: pipeline)
        } else {
            prepared = try pipeline.prepare(images)
        }
        let architecture = pipeline.architecture
        let stepsPerEpoch = (prepared.train.count + batchSize - 1) / batchSize
        if let dump {
            let dir = URL(fileURLWithPath: dump)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try write(prepared.train.features, to: dir.appendingPathComponent("train_x.f32"))
            try write(prepared.train.labels, to: dir.appendingPathComponent("train_y.i32"))
            try write(prepared.test.features, to: dir.appendingPathComponent("test_x.f32"))
            try write(prepared.test.labels, to: dir.appendingPathComponent("test_y.i32"))
            // Targets as the loss sees them: `classes` floats per sample, a 0/1 mask or (soft) a distribution.
            try write(prepared.train.targets, to: dir.appendingPathComponent("train_t.f32"))
            try write(prepared.test.targets, to: dir.appendingPathComponent("test_t.f32"))
            try write(prepared.train.soft.map { UInt8($0 ? 1 : 0) }, to: dir.appendingPathComponent("train_soft.u8"))
            if heldOutFraction != nil {
                try Data(testIDs.map { $0 + "\n" }.joined().utf8).write(to: dir.appendingPathComponent("test_ids.txt"))
            }
            // The initial weights, so the reference starts from the same point.
            let layout = ParameterLayout(architecture)
            try write(layout.initialParameters(seed: seed), to: dir.appendingPathComponent("init.f32"))
            let warmupSteps = max(1, Int((warmupEpochs * Double(stepsPerEpoch)).rounded()))
            let meta: [String: Any] = [
                "parameters": layout.tensors.map {
                    ["name": $0.name, "shape": $0.shape, "offset": $0.offset, "trainable": $0.trainable, "decays": $0.decays] as [String: Any]
                },
                "labels": GalaxyLabels.standard, "high_level": GalaxyLabels.standard.map(GalaxyLabels.highLevelClass(of:)),
                "high_level_classes": GalaxyLabels.highLevelClasses, "input_size": preprocess.size,
                "train_count": prepared.train.count, "test_count": prepared.test.count,
                "architecture": [
                    "widths": architecture.convChannels, "depth": architecture.depth, "batch_norm": architecture.batchNorm,
                    "global_pool": architecture.globalPool, "hidden": architecture.hidden, "dropout": architecture.dropout,
                    "spec": ArchitectureSpec.describe(architecture),
                ] as [String: Any],
                // Every batch is cut into this many-sample BatchNorm groups at most (NetworkTrainer.groups).
                "batch_norm_group": options.batchNormGroup, "batch_norm_momentum": 0.1, "batch_norm_eps": 1e-5,
                "optimizer": optimizer, "learning_rate": Double(options.optimizer.learningRate),
                "weight_decay": Double(weightDecay), "momentum": Double(options.optimizer.momentum),
                "label_smoothing": labelSmoothing, "batch_size": batchSize, "epochs": epochs, "steps_per_epoch": stepsPerEpoch,
                "seed": seed,
                "schedule": schedule == "cosine"
                    ? ["kind": "cosine", "warmup_steps": warmupSteps, "total_steps": epochs * stepsPerEpoch] as [String: Any]
                    : ["kind": "constant"] as [String: Any],
                "crop_fraction": preprocess.cropFraction, "decode_scale": decodeScale,
                "held_out_fraction": heldOutFraction.map { $0 as Any } ?? NSNull(),
            ]
            try JSONSerialization.data(withJSONObject: meta, options: [.prettyPrinted, .sortedKeys]).write(to: dir.appendingPathComponent("meta.json"))
            // The order and mirroring the training loop uses in every epoch, for the reference to replay.
            for epoch in 1...max(epochs, 1) {
                let plan = TrainingLoop.epochPlan(seed: seed, epoch: epoch, count: prepared.train.count, randomMirror: options.randomMirror)
                try write(plan.order.map { Int32($0) }, to: dir.appendingPathComponent("order_\(epoch).i32"))
                try write(plan.mirrored.map { UInt8($0 ? 1 : 0) }, to: dir.appendingPathComponent("mirror_\(epoch).u8"))
            }
            if let traceSteps {
                try trace(steps: traceSteps, options: options, architecture: architecture, train: prepared.train, to: dir)
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
        let morphology = MorphologyScores(
            predictions: result.outcome.testPredictions, targets: (0..<prepared.test.count).map(prepared.test.target),
            vocabulary: pipeline.vocabulary)
        // Accuracy of the final epoch (what the reference reports too), not the early-stopping pick.
        let summary: [String: Any] = [
            "implementation": "galaxy",
            "architecture": ArchitectureSpec.describe(architecture), "weight_decay": Double(weightDecay), "schedule": schedule,
            "label_smoothing": labelSmoothing, "held_out_fraction": heldOutFraction.map { $0 as Any } ?? NSNull(),
            "morphology_accuracy": morphology.accuracy, "elliptical_recall": morphology.ellipticalRecall,
            "disk_recall": morphology.diskRecall, "inside_set_accuracy": morphology.insideSet,
            "epochs": epochs, "batch_size": batchSize, "threads": threads, "optimizer": optimizer,
            "learning_rate": Double(options.optimizer.learningRate), "decode_scale": decodeScale,
            "train_samples": prepared.train.count, "test_samples": prepared.test.count,
            "train_images": prepared.trainImages, "test_images": prepared.testImages,
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
            threads: options.threads, seed: options.seed, batchNormGroup: options.batchNormGroup)
        trainer.labelSmoothing = Float(options.labelSmoothing)
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

    /// Splits by id hash: the held-out images become the test set (never trained on, never picking an
    /// epoch), every other image trains (the pipeline's own test split is turned off).
    /// - Returns: the prepared samples and the ids of the test images, in test-set order.
    private func prepareHeldOut(
        _ images: [LabeledImage], fraction: Double, pipeline: TrainingPipeline
    ) throws -> (TrainingPipeline.Prepared, [String]) {
        let parser = TargetParser(vocabulary: pipeline.vocabulary)
        var trainImages: [LabeledImage] = []
        var heldOut: [LabeledImage] = []
        var heldOutTargets: [TrainingTarget] = []
        for image in images {
            guard let target = try image.target(using: parser) else { continue }
            if HashSplit.isHeldOut(id: image.id, fraction: fraction) {
                heldOut.append(image)
                heldOutTargets.append(target)
            } else {
                trainImages.append(image)
            }
        }
        guard !heldOut.isEmpty else { throw ValidationError("no image is held out at fraction \(fraction); use more images") }
        var trainOnly = pipeline
        trainOnly.testFraction = 0
        var prepared = try trainOnly.prepare(trainImages)
        let test = TrainingData.preprocess(
            heldOut, targets: heldOutTargets, classes: pipeline.vocabulary.count, rotations: [0], options: pipeline.preprocess,
            threads: pipeline.options.threads, title: "preprocess held out", showProgress: pipeline.options.showProgress)
        for failure in test.failures.prefix(5) { pipeline.log("skipped held-out \(failure.source): \(failure.error)") }
        pipeline.log("\(heldOut.count) images held out by id hash (fraction \(fraction)): the test set")
        prepared.test = test.set
        prepared.testImages = test.kept.count
        prepared.skipped += test.failures
        return (prepared, test.kept.map { heldOut[$0].id })
    }

    private func write<T>(_ values: [T], to url: URL) throws {
        try values.withUnsafeBytes { Data($0) }.write(to: url)
    }
}

/// Held-out scores at the coarse level a catalog such as Galaxy Zoo 1 gives: the morphology of
/// the predicted label against the target's (`Morphology`), the recall of Elliptical and disk
/// targets, and the share of predictions inside the target's allowed labels.
struct MorphologyScores {
    var accuracy = 0.0
    var ellipticalRecall = 0.0
    var diskRecall = 0.0
    var insideSet = 0.0

    init(predictions: [Int], targets: [TrainingTarget], vocabulary: LabelVocabulary) {
        func morphology(_ label: Int) -> GalaxyCore.Morphology? { GalaxyCore.Morphology(highLevelClass: vocabulary.classes[label]) }
        var right = 0
        var inside = 0
        var seen: [GalaxyCore.Morphology: Int] = [:]
        var found: [GalaxyCore.Morphology: Int] = [:]
        for (predicted, target) in zip(predictions, targets) {
            // A target's labels share one morphology (a set never mixes them); its first label names it.
            let truth = morphology(target.representativeLabel)
            if let truth {
                seen[truth, default: 0] += 1
                if morphology(predicted) == truth {
                    right += 1
                    found[truth, default: 0] += 1
                }
            }
            if target.allowedLabels.contains(predicted) { inside += 1 }
        }
        let n = Double(max(predictions.count, 1))
        accuracy = Double(right) / n
        insideSet = Double(inside) / n
        ellipticalRecall = Double(found[.elliptical] ?? 0) / Double(max(seen[.elliptical] ?? 0, 1))
        diskRecall = Double(found[.disk] ?? 0) / Double(max(seen[.disk] ?? 0, 1))
    }
}
