import Testing

@testable import GalaxyTraining

/// The sample order and mirroring of every epoch: what `TrainingLoop.run` trains on and what
/// scripts/bench-train replays in the PyTorch reference, so both must be the same thing.
@Suite struct EpochPlanTests {
    static let architecture = Architecture(inputChannels: 2, inputSize: 9, convChannels: [3, 4, 2], hidden: 5, classes: 3)

    static func samples(count: Int, seed: UInt64) -> SampleSet {
        var rng = SeededGenerator(seed: seed)
        let features = (0..<(count * architecture.inputCount)).map { _ in Float(rng.nextUnit()) }
        let labels = (0..<count).map { _ in Int32(rng.next() % 3) }
        return SampleSet(sampleSize: architecture.inputCount, features: features, labels: labels, classes: 3)
    }

    static func options(epochs: Int) -> TrainingOptions {
        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = 5
        options.threads = 2
        options.seed = 11
        options.showProgress = false
        options.keepBestEpoch = false
        return options
    }

    @Test func planIsASeededPermutationWithMirroringDrawnPerEpoch() {
        let a = TrainingLoop.epochPlan(seed: 3, epoch: 1, count: 500)
        #expect(a.order.sorted() == Array(0..<500))
        #expect(a.order != Array(0..<500))
        #expect(a.mirrored.count == 500)
        let mirrored = a.mirrored.filter { $0 }.count
        #expect(mirrored > 200 && mirrored < 300, "\(mirrored) of 500 mirrored")
        let again = TrainingLoop.epochPlan(seed: 3, epoch: 1, count: 500)
        #expect(again.order == a.order && again.mirrored == a.mirrored)
        let next = TrainingLoop.epochPlan(seed: 3, epoch: 2, count: 500)
        #expect(next.order != a.order && next.mirrored != a.mirrored)
        #expect(TrainingLoop.epochPlan(seed: 4, epoch: 1, count: 500).order != a.order)
        #expect(TrainingLoop.epochPlan(seed: 3, epoch: 1, count: 500, randomMirror: false).mirrored.allSatisfy { !$0 })
    }

    /// The loop's weights after two epochs equal, bit for bit, those of a trainer stepped by hand
    /// through `epochPlan` (23 samples in batches of 5: the last batch of each epoch is short).
    @Test func runTrainsAlongTheEpochPlan() throws {
        let train = Self.samples(count: 23, seed: 1)
        let test = Self.samples(count: 4, seed: 2)
        let options = Self.options(epochs: 2)
        let outcome = try TrainingLoop(architecture: Self.architecture, options: options).run(train: train, test: test)

        let trainer = NetworkTrainer(
            architecture: Self.architecture, optimizer: options.optimizer, batchSize: options.batchSize,
            threads: options.threads, seed: options.seed)
        for epoch in 1...options.epochs {
            let plan = TrainingLoop.epochPlan(seed: options.seed, epoch: epoch, count: train.count)
            #expect(plan.mirrored.contains(true) && plan.mirrored.contains(false))
            var start = 0
            while start < train.count {
                let end = min(train.count, start + options.batchSize)
                _ = trainer.step(set: train, indices: plan.order[start..<end], mirrored: plan.mirrored[start..<end])
                start = end
            }
        }
        let differing = zip(outcome.parameters, trainer.parameters).filter { $0 != $1 }.count
        #expect(differing == 0, "\(differing) of \(trainer.parameters.count) weights differ from the hand-stepped run")
        #expect(outcome.parameters != ParameterLayout(Self.architecture).initialParameters(seed: options.seed))
    }

    /// A mirrored sample is the sample with every row reversed: the width axis of NCHW (PyTorch's
    /// `flip(dims=[3])`), not the height.
    @Test func mirroringFlipsTheWidthAxis() {
        let arch = Self.architecture
        let original = Self.samples(count: 4, seed: 5)
        let side = arch.inputSize
        var flipped = original.features
        var transposedFlip = original.features
        for n in 0..<original.count {
            for c in 0..<arch.inputChannels {
                for y in 0..<side {
                    for x in 0..<side {
                        let base = (n * arch.inputChannels + c) * side * side
                        flipped[base + y * side + x] = original.features[base + y * side + (side - 1 - x)]
                        transposedFlip[base + y * side + x] = original.features[base + (side - 1 - y) * side + x]
                    }
                }
            }
        }
        func stepped(_ set: SampleSet, mirrored: [Bool]?) -> [Float] {
            let trainer = NetworkTrainer(architecture: arch, optimizer: OptimizerSettings(), batchSize: 4, threads: 2, seed: 9)
            _ = trainer.step(set: set, indices: [0, 1, 2, 3], mirrored: mirrored.map { $0[...] })
            return trainer.summedGradient
        }
        let viaFlag = stepped(original, mirrored: [true, true, true, true])
        let width = stepped(SampleSet(sampleSize: original.sampleSize, features: flipped, labels: original.labels, classes: 3), mirrored: nil)
        let height = stepped(SampleSet(sampleSize: original.sampleSize, features: transposedFlip, labels: original.labels, classes: 3), mirrored: nil)
        #expect(viaFlag == width)
        #expect(viaFlag != height)
        #expect(viaFlag != stepped(original, mirrored: nil))
    }
}
