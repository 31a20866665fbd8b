import Foundation
import GalaxyCore
import GalaxyImage
import Testing

@testable import GalaxyTraining

/// The parts of a training recipe beyond the network: --arch specs, coarse and set labels, class
/// balance, the cosine schedule, AdamW's decay, and runs that do not depend on the thread count.
@Suite struct RecipeTests {
    static func pipeline(epochs: Int, threads: Int, vocabulary: LabelVocabulary, augmentation: AugmentationSettings? = nil) throws -> TrainingPipeline {
        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = 16
        options.seed = 3
        options.threads = threads
        options.showProgress = false
        options.optimizer = OptimizerSettings(kind: .adam, learningRate: 3e-3, weightDecay: 1e-4)
        options.cosineWarmupEpochs = 1
        options.labelSmoothing = 0.05
        var preprocess = PreprocessOptions()
        preprocess.size = 24
        preprocess.cropFraction = 0.3
        var pipeline = TrainingPipeline(options: options, preprocess: preprocess, vocabulary: vocabulary)
        pipeline.architecture = try ArchitectureSpec.parse("widths=8/16,bn,gap,dense=0,dropout=0.2", base: pipeline.architecture)
        pipeline.augmentation = augmentation
        pipeline.testFraction = 0.25
        return pipeline
    }

    @Test func specsParseDescribeBackAndNameWhatIsWrong() throws {
        let base = Architecture(inputSize: 50, classes: 13)
        #expect(try ArchitectureSpec.parse("classic", base: base) == base)
        let bn = try ArchitectureSpec.parse("bn-gap", base: base)
        #expect(bn.batchNorm && bn.globalPool && bn.hidden == 0 && bn.convChannels == [32, 64, 128])
        for spec in ["widths=16/32,depth=2,bn,flatten,dense=64,dropout=0.5", "widths=8,gap,dense=0"] {
            let parsed = try ArchitectureSpec.parse(spec, base: base)
            #expect(try ArchitectureSpec.parse(ArchitectureSpec.describe(parsed), base: base) == parsed)
        }
        #expect(throws: ArchitectureSpecError.self) { try ArchitectureSpec.parse("widths=32/x", base: base) }
        #expect(throws: ArchitectureSpecError.self) { try ArchitectureSpec.parse("dropout=1", base: base) }
        #expect(throws: ArchitectureSpecError.self) { try ArchitectureSpec.parse("bn,wide", base: base) }
        // Seven poolings of 50 pixels leave none.
        #expect(throws: ArchitectureSpecError.self) { try ArchitectureSpec.parse("widths=1/1/1/1/1/1/1", base: base) }
    }

    /// BatchNorm groups, dropout masks and augmentation all come from the batch and the seed, never
    /// from which thread ran what: one and two threads train the same weights bit for bit.
    @Test func aBatchNormRunWithAugmentationIsTheSameWhateverTheThreadCount() throws {
        let images = try ShapeImages.make(perLabel: 10, seed: 21)
        let vocabulary = try LabelVocabulary(labels: ShapeImages.labels)
        let one = try Self.pipeline(epochs: 2, threads: 1, vocabulary: vocabulary, augmentation: .standard).run(images)
        let two = try Self.pipeline(epochs: 2, threads: 2, vocabulary: vocabulary, augmentation: .standard).run(images)
        #expect(one.outcome.parameters == two.outcome.parameters)
        #expect(one.outcome.history.map(\.train.loss) == two.outcome.history.map(\.train.loss))
    }

    /// Images labelled only by their class (Er and Sa share none here: each class is its own
    /// pair of labels) train a model whose class is right, through the likelihood of the set.
    @Test func coarseLabelsTrainTheClass() throws {
        // Two classes of two labels each; the catalog gives only the class.
        let vocabulary = try LabelVocabulary(labels: ShapeImages.labels, classes: ["Plain", "Plain", "Structured", "Structured"])
        let coarse = try ShapeImages.make(perLabel: 24, seed: 5).map { image -> LabeledImage in
            var copy = image
            copy.label = vocabulary.highLevelClass(of: image.label)!
            return copy
        }
        let result = try Self.pipeline(epochs: 6, threads: 2, vocabulary: vocabulary).run(coarse)
        #expect(result.report.highLevel.total == 24)
        #expect(result.report.highLevel.accuracy >= 0.85, "class accuracy \(result.report.highLevel.accuracy)\n\(result.report.text)")
    }

    @Test func classBalanceDrawsEveryGroupOfASourceEquallyOften() throws {
        let vocabulary = LabelVocabulary.standard
        var pipeline = TrainingPipeline(options: TrainingOptions(), vocabulary: vocabulary)
        pipeline.classBalance = true
        pipeline.sourceWeights = [1, 3]
        let images = (0..<40).map { i in
            LabeledImage(source: "x\(i)", label: i < 30 ? "Er" : "Sa", jpeg: [], dataSource: i < 36 ? 0 : 1)
        }
        let groups = images.map { ($0.dataSource == 0 ? 0 : 2) + ($0.label == "Er" ? 0 : 1) }
        let weights = try #require(pipeline.samplingWeights(images: images, groups: groups, copies: 1))
        func mass(_ source: Int, _ label: String) -> Double {
            zip(images, weights).filter { $0.0.dataSource == source && $0.0.label == label }.reduce(0) { $0 + $1.1 }
        }
        // Source 0 has 30 Er and 6 Sa: both groups get the same total weight.
        #expect(abs(mass(0, "Er") - mass(0, "Sa")) < 1e-9)
        // Source 1 (4 Sa only) weighs 3 per image.
        #expect(abs(mass(1, "Sa") - 12) < 1e-9)
        let plan = TrainingLoop.epochPlan(seed: 1, epoch: 1, count: 36, weights: Array(weights.prefix(36)))
        let drawnSa = plan.order.filter { $0 >= 30 }.count
        #expect(drawnSa > 10 && drawnSa < 26, "Sa drawn \(drawnSa) of 36 times; expected about 18")
        // Equal weights train on a plain permutation.
        pipeline.classBalance = false
        pipeline.sourceWeights = []
        #expect(pipeline.samplingWeights(images: images, groups: groups, copies: 1) == nil)
    }

    @Test func cosineScheduleWarmsUpThenDecaysToZero() {
        let schedule = LearningRateSchedule.cosine(warmupSteps: 4, totalSteps: 20)
        #expect(schedule.rate(step: 0, base: 1) == 0.25)
        #expect(schedule.rate(step: 3, base: 1) == 1)
        #expect(abs(schedule.rate(step: 12, base: 1) - 0.5) < 1e-6)
        #expect(schedule.rate(step: 20, base: 1) == 0)
        #expect(LearningRateSchedule.constant.rate(step: 7, base: 0.1) == 0.1)
    }

    /// AdamW shrinks the weights of convolutions and dense layers by lr·λ per step and leaves
    /// biases, BatchNorm and its running statistics alone.
    @Test func weightDecayTouchesOnlyWeights() {
        let layout = ParameterLayout(try! ArchitectureSpec.parse("widths=2,bn,gap,dense=0", base: Architecture(inputSize: 8, classes: 3)))
        var parameters = layout.initialParameters(seed: 1)
        let before = parameters
        var state = OptimizerState(settings: OptimizerSettings(kind: .adam, learningRate: 0.1, weightDecay: 0.5), parameterCount: layout.totalCount)
        var mask = [Bool](repeating: false, count: layout.totalCount)
        for t in layout.tensors where t.decays { for i in t.offset..<(t.offset + t.count) { mask[i] = true } }
        state.apply(gradients: [Float](repeating: 0, count: layout.totalCount), to: &parameters, decayMask: mask)
        for t in layout.tensors {
            for i in t.offset..<(t.offset + t.count) {
                let expected = t.decays ? before[i] * (1 - 0.05) : before[i]
                #expect(abs(parameters[i] - expected) <= 1e-7, "\(t.name)")
            }
        }
        #expect(layout.tensors.filter(\.decays).map(\.name) == ["conv1.weight", "dense1.weight"])
    }
}
