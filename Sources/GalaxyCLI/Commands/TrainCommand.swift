import ArgumentParser
import Foundation
import GalaxyCore
import GalaxyImage
import GalaxyTraining

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the galaxy classifier and export it as ONNX.",
        discussion: """
            Splits the labelled images into train and test sets by seed, preprocesses every training \
            image once per rotation (0, 45, 90 degrees) with the same function the scorer uses, trains \
            with random left-right mirroring, and writes MODEL.onnx plus MODEL.svg (curves and \
            confusion matrices) and MODEL.ckpt (resume point) beside it.
            """)

    @Option(help: "A data set directory with catalog.csv and images/ (as written by `galaxy synth`).")
    var data: String?

    @Flag(help: "Train on the rows of galaxy.images that have a label.")
    var fromDb = false

    @Option(help: "PostgreSQL connection URL for --from-db and --register (default: DATABASE_URL or libpq's PG* variables).")
    var database: String?

    @Option(help: "Where to write the ONNX model.")
    var out: String

    @Option(help: "Passes over the training set.")
    var epochs = 10

    @Option(help: "Samples per optimiser step.")
    var batchSize = 64

    @Option(help: "Learning rate (default: 0.001 for adam, 0.01 for sgd).")
    var lr: Float?

    @Option(help: "adam or sgd (with momentum).")
    var optimizer: OptimizerKind = .adam

    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9

    @Option(help: "Seed of the split, initialisation, shuffling and mirroring.")
    var seed: UInt64 = 1

    @Option(help: "Share of every label held out for testing and early stopping.")
    var testFraction = 0.2

    @Option(help: "DCT decode scale the images are decoded at: 1, 1/2, 1/4 or 1/8 (stored in the model).")
    var decodeScale = "1"

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(help: "Continue from a checkpoint written by an earlier run.")
    var resume: String?

    @Option(help: "Stop after this many epochs without a lower held-out loss.")
    var patience: Int?

    @Option(help: "Also store the model in galaxy.models under this name.")
    var register: String?

    @Flag(help: "With --register: make it the active model once validated.")
    var activate = false

    @Flag(help: "No progress bars.")
    var quiet = false

    func validate() throws {
        if (data == nil) == !fromDb { throw ValidationError("Please give exactly one of '--data DIR' or '--from-db'.") }
        if epochs < 1 { throw ValidationError("Please specify an '--epochs' of at least 1.") }
        if batchSize < 1 { throw ValidationError("Please specify a '--batch-size' of at least 1.") }
        if !(testFraction > 0 && testFraction < 1) { throw ValidationError("'--test-fraction' must lie strictly between 0 and 1.") }
        if DecodeScale(metadataValue: decodeScale) == nil { throw ValidationError("'--decode-scale' must be 1, 1/2, 1/4 or 1/8, not '\(decodeScale)'.") }
        if let threads, threads < 1 { throw ValidationError("Please specify '--threads' of at least 1.") }
        if let patience, patience < 1 { throw ValidationError("Please specify a '--patience' of at least 1.") }
        if activate && register == nil { throw ValidationError("'--activate' needs '--register NAME'.") }
        if let lr, !(lr > 0) { throw ValidationError("'--lr' must be positive.") }
    }

    // Synchronous on purpose: the work runs on worker threads and blocking libpq calls, never on
    // Swift's cooperative pool.
    func run() throws {
        let outURL = URL(fileURLWithPath: out)
        let base = outURL.deletingPathExtension()
        let checkpointURL = base.appendingPathExtension("ckpt")
        let svgURL = base.appendingPathExtension("svg")
        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = batchSize
        options.optimizer = OptimizerSettings(kind: optimizer, learningRate: lr, momentum: momentum)
        options.seed = seed
        options.threads = threads ?? WorkerPool.defaultThreadCount
        options.patience = patience
        options.showProgress = !quiet
        var preprocess = PreprocessOptions()
        preprocess.decodeScale = DecodeScale(metadataValue: decodeScale)!
        var pipeline = TrainingPipeline(options: options, preprocess: preprocess)
        pipeline.testFraction = testFraction
        pipeline.checkpoint = checkpointURL
        pipeline.log = { message in FileHandle.standardError.write(Data((message + "\n").utf8)) }
        if let resume { pipeline.resume = try Checkpoint.read(from: URL(fileURLWithPath: resume)) }

        let images: [LabeledImage]
        let source: String
        if let data {
            images = try TrainingData.loadDirectory(URL(fileURLWithPath: data))
            source = "data=\(URL(fileURLWithPath: data).lastPathComponent)"
        } else {
            images = try TrainingDatabase.loadLabeledImages(url: database)
            source = "from-db"
        }
        let provenance = "\(source) seed=\(seed) epochs=\(epochs) batch=\(batchSize) optimizer=\(optimizer.rawValue) decode_scale=\(decodeScale) test_fraction=\(testFraction)"
        let result = try pipeline.run(images, provenance: provenance)

        try Data(result.onnx).write(to: outURL)
        try result.report.svg.write(to: svgURL, atomically: true, encoding: .utf8)
        print(result.report.text)
        print("")
        let best = result.outcome.history.first { $0.epoch == result.outcome.bestEpoch }
        let flags = result.outcome.stoppedEarly ? ", stopped early" : ""
        print(
            "model: \(outURL.path) (\(result.onnx.count) bytes, epoch \(result.outcome.bestEpoch) of \(result.outcome.history.count)\(flags), "
                + String(format: "test accuracy %.2f%% low-level / %.2f%% high-level)", (best?.test.accuracy ?? 0) * 100, result.report.highLevel.accuracy * 100))
        print("report: \(svgURL.path)  checkpoint: \(checkpointURL.path)")
        print(String(format: "training: %.1f images/s over %d epochs; preprocessing took %.1f s", result.trainingImagesPerSecond, result.outcome.history.count, result.preprocessSeconds))
        if let register {
            let id = try TrainingDatabase.register(onnx: result.onnx, name: register, activate: activate, url: database)
            print("registered as model \(id) '\(register)'\(activate ? " (active)" : "")")
        }
    }
}

extension OptimizerKind: ExpressibleByArgument {}
