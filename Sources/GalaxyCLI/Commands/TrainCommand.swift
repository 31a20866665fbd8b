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
            Reads each image's label (a label, a high-level class, a set such as Sa|Sb, or p_<label> \
            vote fractions), splits the images into train and test sets by seed (stratified by label), \
            preprocesses them with the same function the scorer uses, trains (with --augment, every \
            sample is drawn anew each epoch; otherwise rotations 0, 45, 90 and random mirroring), and \
            writes MODEL.onnx plus MODEL.svg (curves and confusion matrices) and MODEL.ckpt (resume \
            point) beside it.
            """)

    @Option(
        help: ArgumentHelp(
            "A data set: a directory with catalog.csv and images/ (as `galaxy synth` writes), or db for the labelled rows of galaxy.images; repeat for several sources.",
            discussion: "Append :weight=W to draw each of its images W times as often, and (directories) :label-column=NAME to read labels from another column.",
            valueName: "source"))
    var data: [String] = []

    @Flag(help: "Train on the rows of galaxy.images that have a label (the same as --data db).")
    var fromDb = false

    @Option(help: "Column of the label in every catalog (default: label).")
    var labelColumn: String?

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

    @Option(help: "Network: a preset (classic, bn-gap) or settings such as 'widths=32/64/128,depth=1,bn,gap,dense=0,dropout=0.2'.")
    var arch = "classic"

    @Option(help: "Decoupled weight decay (AdamW) on convolution and dense weights.")
    var weightDecay: Float = 0

    @Option(help: "Learning-rate schedule: constant or cosine (with --warmup-epochs of linear warm-up).")
    var schedule: ScheduleKind = .constant

    @Option(help: "Warm-up epochs of the cosine schedule.")
    var warmupEpochs = 1.0

    @Option(help: "Label smoothing of the training loss (0 to 0.5).")
    var labelSmoothing = 0.0

    @Flag(help: "Draw every label (or class, or set) equally often within each data source.")
    var balance = false

    @Option(help: "Augmentation: none (fixed rotations 0/45/90 and mirroring), standard, or settings such as 'rotation,flip,shift=0.04,scale=0.1,brightness=0.15'.")
    var augment = "none"

    @Option(help: "The model's own labels and their classes, e.g. 'elliptical=Elliptical,spiral=Spiral,merger=Ambiguous' (default: the 13 Galaxy Zoo labels).")
    var labels: String?

    @Option(help: "Leave out of training the images whose id the stable hash rule holds out at this fraction (for `galaxy evaluate --held-out-fraction`).")
    var heldOutFraction: Double?

    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9

    @Option(help: "Seed of the split, initialisation, shuffling and mirroring.")
    var seed: UInt64 = 1

    @Option(help: "Share of every label held out for testing and early stopping.")
    var testFraction = 0.2

    @Option(help: "DCT decode scale the images are decoded at: 1, 1/2, 1/4 or 1/8 (stored in the model).")
    var decodeScale = "1"

    @Option(help: "Fraction cropped from every border before resizing (stored in the model).")
    var cropFraction = 0.26

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
        if data.isEmpty && !fromDb { throw ValidationError("Please give '--data DIR' (one or more) or '--from-db'.") }
        for argument in data {
            do { _ = try DataSource(argument: argument) } catch { throw ValidationError("'--data': \(error)") }
        }
        do { _ = try ArchitectureSpec.parse(arch) } catch { throw ValidationError(error.description) }
        if !(0...0.5).contains(labelSmoothing) { throw ValidationError("'--label-smoothing' must lie in 0...0.5.") }
        if weightDecay < 0 { throw ValidationError("'--weight-decay' must not be negative.") }
        if !(warmupEpochs >= 0) { throw ValidationError("'--warmup-epochs' must not be negative.") }
        if let heldOutFraction, !(heldOutFraction > 0 && heldOutFraction < 1) {
            throw ValidationError("'--held-out-fraction' must lie strictly between 0 and 1.")
        }
        if let labels { do { _ = try LabelVocabulary(spec: labels) } catch { throw ValidationError("'--labels': \(error)") } }
        do { _ = try AugmentationSettings(spec: augment) } catch { throw ValidationError("'--augment': \(error)") }
        if epochs < 1 { throw ValidationError("Please specify an '--epochs' of at least 1.") }
        if batchSize < 1 { throw ValidationError("Please specify a '--batch-size' of at least 1.") }
        if !(testFraction > 0 && testFraction < 1) { throw ValidationError("'--test-fraction' must lie strictly between 0 and 1.") }
        if !(0..<0.5).contains(cropFraction) { throw ValidationError("'--crop-fraction' must lie in 0..<0.5, not \(cropFraction).") }
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
        options.optimizer = OptimizerSettings(kind: optimizer, learningRate: lr, momentum: momentum, weightDecay: weightDecay)
        options.labelSmoothing = labelSmoothing
        options.cosineWarmupEpochs = schedule == .cosine ? warmupEpochs : nil
        options.seed = seed
        options.threads = threads ?? WorkerPool.defaultThreadCount
        options.patience = patience
        options.showProgress = !quiet
        var preprocess = PreprocessOptions()
        preprocess.decodeScale = DecodeScale(metadataValue: decodeScale)!
        preprocess.cropFraction = cropFraction
        let vocabulary = try labels.map { try LabelVocabulary(spec: $0) } ?? .standard
        var pipeline = TrainingPipeline(options: options, preprocess: preprocess, vocabulary: vocabulary)
        pipeline.architecture = try ArchitectureSpec.parse(arch, base: pipeline.architecture)
        let augmentation = try AugmentationSettings(spec: augment)
        pipeline.augmentation = augmentation == .none ? nil : augmentation
        pipeline.classBalance = balance
        pipeline.heldOutFraction = heldOutFraction
        pipeline.testFraction = testFraction
        pipeline.checkpoint = checkpointURL
        pipeline.log = { message in FileHandle.standardError.write(Data((message + "\n").utf8)) }
        KernelAnnouncement.write(for: "train")
        if let resume { pipeline.resume = try Checkpoint.read(from: URL(fileURLWithPath: resume)) }

        let sources = try data.map { try DataSource(argument: $0) } + (fromDb ? [try DataSource(location: .database)] : [])
        pipeline.sourceWeights = sources.map(\.weight)
        var catalog = CatalogOptions()
        if let labelColumn { catalog.labelColumn = labelColumn }
        let images = try TrainingData.load(sources, options: catalog) { _ in try TrainingDatabase.loadLabeledImages(url: database) }
        // DataSource writes its own command-line form; only the folder's name, not the machine's
        // path, goes into the model.
        let described = sources.map { source -> String in
            var named = source
            if case .directory(let path) = source.location { named.location = .directory(URL(fileURLWithPath: path).lastPathComponent) }
            return "data=" + named.argument
        }
        let provenance = (described + [
            "arch=\(ArchitectureSpec.describe(pipeline.architecture))", "augment=\(augmentation)", "seed=\(seed)", "epochs=\(epochs)",
            "batch=\(batchSize)", "optimizer=\(optimizer.rawValue)", "lr=\(options.optimizer.learningRate)", "weight_decay=\(weightDecay)",
            "schedule=\(schedule.rawValue)", "label_smoothing=\(labelSmoothing)", "balance=\(balance)", "decode_scale=\(decodeScale)",
            "crop_fraction=\(cropFraction)",
            "test_fraction=\(testFraction)",
        ] + (heldOutFraction.map { ["held_out_fraction=\($0)"] } ?? [])).joined(separator: " ")
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

/// `--schedule`.
enum ScheduleKind: String, ExpressibleByArgument, CaseIterable {
    case constant
    case cosine
}
