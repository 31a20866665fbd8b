import Foundation
import GalaxyCore

/// Settings of one training run.
public struct TrainingOptions: Sendable, Hashable, Codable {
    public var epochs: Int = 10
    public var batchSize: Int = 64
    public var optimizer = OptimizerSettings()
    public var seed: UInt64 = 1
    public var threads: Int = WorkerPool.defaultThreadCount
    /// Stop after this many epochs without a lower held-out loss (nil: never stop early).
    public var patience: Int? = nil
    /// Mirror each training sample left-right with probability 1/2, drawn anew every epoch.
    public var randomMirror: Bool = true
    /// Show a progress bar per epoch on standard error.
    public var showProgress: Bool = true
    /// Export the epoch with the lowest held-out loss (true) or the last epoch (false, as a
    /// reference implementation that trains a fixed number of epochs would).
    public var keepBestEpoch: Bool = true
    /// Label smoothing ε of the training loss.
    public var labelSmoothing: Double = 0
    /// Cosine learning-rate decay over the run after this many warm-up epochs (nil: constant rate).
    public var cosineWarmupEpochs: Double? = nil
    /// Samples per BatchNorm group (see `NetworkTrainer`).
    public var batchNormGroup: Int = 32

    public init() {}
}

/// The outcome of `TrainingLoop.run`.
public struct TrainingOutcome: Sendable {
    /// The weights with the lowest held-out loss.
    public var parameters: [Float]
    public var history: [EpochRecord]
    public var bestEpoch: Int
    /// Predicted label of every test sample under `parameters`.
    public var testPredictions: [Int]
    /// Softmax probabilities of every test sample under `parameters`, `[count, classes]`.
    public var testProbabilities: [Float]
    public var stoppedEarly: Bool
}

/// Epochs of shuffled mini-batches with held-out evaluation, a checkpoint after every epoch,
/// `--resume` and early stopping on the held-out loss.
public final class TrainingLoop {
    public let architecture: Architecture
    public let options: TrainingOptions
    public let trainer: NetworkTrainer
    private var history: [EpochRecord] = []
    private var bestLoss = Double.infinity
    private var bestEpoch = 0
    private var bestParameters: [Float]
    private var epochsSinceBest = 0
    private var epochsDone = 0
    private let log: (String) -> Void

    public init(architecture: Architecture, options: TrainingOptions, resume: Checkpoint? = nil, log: @escaping (String) -> Void = { _ in }) throws {
        self.architecture = architecture
        self.options = options
        self.log = log
        if let resume {
            guard resume.header.architecture == architecture else {
                throw TrainingError.resumeMismatch("the checkpoint has architecture \(resume.header.architecture), this run \(architecture)")
            }
            guard resume.header.optimizer.kind == options.optimizer.kind else {
                throw TrainingError.resumeMismatch("the checkpoint used \(resume.header.optimizer.kind.rawValue), this run \(options.optimizer.kind.rawValue)")
            }
            trainer = NetworkTrainer(
                architecture: architecture, optimizer: options.optimizer, batchSize: options.batchSize,
                threads: options.threads, seed: options.seed, parameters: resume.parameters, batchNormGroup: options.batchNormGroup)
            trainer.optimizer = resume.optimizerState
            trainer.optimizer.settings = options.optimizer
            history = resume.header.history
            bestLoss = resume.header.bestLoss
            bestEpoch = resume.header.bestEpoch
            bestParameters = resume.bestParameters
            epochsSinceBest = resume.header.epochsSinceBest
            epochsDone = resume.header.epochsDone
        } else {
            trainer = NetworkTrainer(
                architecture: architecture, optimizer: options.optimizer, batchSize: options.batchSize,
                threads: options.threads, seed: options.seed, batchNormGroup: options.batchNormGroup)
            bestParameters = trainer.parameters
        }
        trainer.labelSmoothing = Float(options.labelSmoothing)
    }

    /// Trains until `options.epochs` are done or early stopping triggers.
    /// - Parameters:
    ///   - checkpoint: where to write the checkpoint after every epoch (nil: nowhere).
    ///   - render: draws every training sample anew each epoch (augmentation); nil trains on the
    ///     stored features with random mirroring.
    ///   - samplingWeights: one weight per training sample: each epoch draws `train.count` samples
    ///     with replacement in proportion (class balance, source weights); nil for a permutation.
    public func run(
        train: SampleSet, test: SampleSet, checkpoint: URL? = nil, render: (any SampleRendering)? = nil,
        samplingWeights: [Double]? = nil
    ) throws -> TrainingOutcome {
        guard train.count > 0 else { throw TrainingError.noData("the training split is empty") }
        guard test.count > 0 else { throw TrainingError.noData("the test split is empty; lower --test-fraction or add images") }
        let stepsPerEpoch = (train.count + options.batchSize - 1) / options.batchSize
        let schedule: LearningRateSchedule = options.cosineWarmupEpochs.map {
            .cosine(warmupSteps: max(1, Int(($0 * Double(stepsPerEpoch)).rounded())), totalSteps: options.epochs * stepsPerEpoch)
        } ?? .constant
        var stoppedEarly = false
        while epochsDone < options.epochs {
            if let patience = options.patience, epochsSinceBest >= patience {
                stoppedEarly = true
                break
            }
            let epoch = epochsDone + 1
            let plan = Self.epochPlan(
                seed: options.seed, epoch: epoch, count: train.count, randomMirror: options.randomMirror, weights: samplingWeights)
            let bar = options.showProgress ? ProgressBar(title: "epoch \(epoch)/\(options.epochs)", total: train.count) : nil
            let started = Date()
            var lossSum = 0.0
            var correct = 0
            var seen = 0
            var start = 0
            while start < train.count {
                let end = min(train.count, start + options.batchSize)
                let rate = schedule.rate(step: trainer.optimizer.step, base: options.optimizer.learningRate)
                let r = trainer.step(
                    set: train, indices: plan.order[start..<end], mirrored: plan.mirrored[start..<end], render: render,
                    sampleSeeds: plan.sampleSeeds[start..<end], learningRate: rate)
                lossSum += r.loss
                correct += r.correct
                seen += end - start
                bar?.advance(by: end - start, note: String(format: "loss %.4f acc %.1f%%", lossSum / Double(seen), 100 * Double(correct) / Double(seen)))
                start = end
            }
            let seconds = Date().timeIntervalSince(started)
            let trainMetrics = PassMetrics(loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen), samples: seen)
            let testMetrics = trainer.evaluate(test).metrics
            bar?.setNote(String(format: "loss %.4f acc %.1f%% | test loss %.4f acc %.1f%%", trainMetrics.loss, trainMetrics.accuracy * 100, testMetrics.loss, testMetrics.accuracy * 100))
            bar?.finish()
            history.append(EpochRecord(epoch: epoch, train: trainMetrics, test: testMetrics, seconds: seconds, imagesPerSecond: Double(seen) / max(seconds, 1e-9)))
            if testMetrics.loss < bestLoss {
                bestLoss = testMetrics.loss
                bestEpoch = epoch
                bestParameters = trainer.parameters
                epochsSinceBest = 0
            } else {
                epochsSinceBest += 1
            }
            epochsDone = epoch
            if let checkpoint { try makeCheckpoint().write(to: checkpoint) }
        }
        if let patience = options.patience, epochsSinceBest >= patience, epochsDone < options.epochs { stoppedEarly = true }
        if stoppedEarly { log("stopped early: no lower held-out loss for \(options.patience ?? 0) epochs; keeping epoch \(bestEpoch)") }
        let exported = options.keepBestEpoch ? bestParameters : trainer.parameters
        let exportedEpoch = options.keepBestEpoch ? bestEpoch : epochsDone
        let evaluation = trainer.evaluate(test, parameters: exported)
        return TrainingOutcome(
            parameters: exported, history: history, bestEpoch: exportedEpoch, testPredictions: evaluation.predictions,
            testProbabilities: evaluation.probabilities, stoppedEarly: stoppedEarly)
    }

    /// One epoch's samples in order, their mirror flags and their per-sample seeds (augmentation
    /// and dropout).
    public struct EpochPlan: Sendable, Equatable {
        public var order: [Int]
        public var mirrored: [Bool]
        public var sampleSeeds: [UInt64]
    }

    /// The sample order, mirror flags and sample seeds of epoch `epoch` (1-based) of a run with
    /// `seed` over `count` training samples: what `run` trains on, and what scripts/bench-train
    /// replays in the reference. A pure function of its arguments, so a resumed run sees the same
    /// epochs. Without weights the order is a permutation; with weights, `count` draws with
    /// replacement in proportion to them.
    public static func epochPlan(seed: UInt64, epoch: Int, count: Int, randomMirror: Bool = true, weights: [Double]? = nil) -> EpochPlan {
        var rng = SeededGenerator(seed: seed).derived(UInt64(epoch))
        var order: [Int]
        if let weights {
            precondition(weights.count == count && weights.allSatisfy { $0 >= 0 } && weights.contains { $0 > 0 },
                         "sampling weights: one non-negative weight per sample, not all zero")
            var cumulative = [Double](repeating: 0, count: count)
            var total = 0.0
            for i in 0..<count {
                total += weights[i]
                cumulative[i] = total
            }
            order = (0..<count).map { _ in
                let u = rng.nextUnit() * total
                var lo = 0
                var hi = count - 1
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if cumulative[mid] > u { hi = mid } else { lo = mid + 1 }
                }
                return lo
            }
        } else {
            order = Array(0..<count)
            order.shuffle(using: &rng)
        }
        let mirrored = (0..<count).map { _ in randomMirror && rng.next() & 1 == 1 }
        var seeds = SeededGenerator(seed: seed).derived(UInt64(epoch) | 0xA5A5_0000_0000_0000)
        let sampleSeeds = (0..<count).map { _ in seeds.next() }
        return EpochPlan(order: order, mirrored: mirrored, sampleSeeds: sampleSeeds)
    }

    private func makeCheckpoint() -> Checkpoint {
        Checkpoint(
            header: .init(
                architecture: architecture, optimizer: options.optimizer, optimizerStep: trainer.optimizer.step,
                seed: options.seed, batchSize: options.batchSize, epochsDone: epochsDone, history: history,
                bestEpoch: bestEpoch, bestLoss: bestLoss, epochsSinceBest: epochsSinceBest, sizes: []),
            parameters: trainer.parameters, bestParameters: bestParameters, optimizerState: trainer.optimizer)
    }
}
