import Foundation
import GalaxyCore
import GalaxyImage
import Testing

@testable import GalaxyTraining

@Suite struct TrainingRunTests {
    /// A small network on 24x24 inputs, so the run stays short in debug builds.
    static func pipeline(epochs: Int, seed: UInt64, optimizer: OptimizerKind = .adam) -> TrainingPipeline {
        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = 16
        options.seed = seed
        options.threads = 2
        options.showProgress = false
        options.optimizer = OptimizerSettings(kind: optimizer)
        var preprocess = PreprocessOptions()
        preprocess.size = 24
        preprocess.cropFraction = 0.3
        var pipeline = TrainingPipeline(options: options, preprocess: preprocess, vocabulary: try! LabelVocabulary(labels: ShapeImages.labels))
        pipeline.architecture = Architecture(inputSize: 24, convChannels: [8, 16, 16], hidden: 32, classes: 4)
        pipeline.testFraction = 0.25
        return pipeline
    }

    @Test(arguments: [OptimizerKind.adam, .sgd])
    func shortRunBeatsChanceByAWideMargin(optimizer: OptimizerKind) throws {
        let images = try ShapeImages.make(perLabel: 24, seed: 5)
        let result = try Self.pipeline(epochs: 6, seed: 3, optimizer: optimizer).run(images)
        let accuracy = result.report.lowLevel.accuracy
        // Four balanced classes: chance is 25%.
        #expect(accuracy >= 0.75, "test accuracy \(accuracy)\n\(result.report.text)")
        #expect(result.report.lowLevel.total == 24)
        #expect(result.outcome.history.count == 6)
        #expect(result.outcome.history.last!.train.loss < result.outcome.history.first!.train.loss)
    }

    @Test func checkpointResumeContinuesWhereTheRunStopped() throws {
        let images = try ShapeImages.make(perLabel: 8, seed: 9)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("galaxy-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpointURL = directory.appendingPathComponent("run.ckpt")

        var full = Self.pipeline(epochs: 3, seed: 4)
        let straight = try full.run(images)

        var first = Self.pipeline(epochs: 2, seed: 4)
        first.checkpoint = checkpointURL
        _ = try first.run(images)
        let saved = try Checkpoint.read(from: checkpointURL)
        #expect(saved.header.epochsDone == 2)
        full.resume = saved
        let resumed = try full.run(images)
        #expect(resumed.outcome.history.count == 3)
        // Same seed and data: resuming reproduces the uninterrupted run.
        #expect(resumed.outcome.history.last!.train.loss == straight.outcome.history.last!.train.loss)
        #expect(resumed.outcome.parameters == straight.outcome.parameters)
    }

    @Test func splitIsStratifiedAndSeeded() {
        let labels = (0..<100).map { $0 % 4 }
        let a = TrainingData.split(count: 100, labels: labels, testFraction: 0.2, seed: 1)
        let b = TrainingData.split(count: 100, labels: labels, testFraction: 0.2, seed: 1)
        let c = TrainingData.split(count: 100, labels: labels, testFraction: 0.2, seed: 2)
        #expect(a.test == b.test)
        #expect(a.test != c.test)
        #expect(a.test.count == 20)
        #expect(Set(a.train).isDisjoint(with: a.test))
        for k in 0..<4 { #expect(a.test.filter { labels[$0] == k }.count == 5) }
    }

    @Test func confusionMatrixCollapsesToHighLevelClasses() {
        let labels = GalaxyLabels.standard
        let truths = [0, 1, 2, 4, 9, 9]
        let predictions = [0, 2, 3, 5, 10, 4]
        let report = TrainingReport(history: [], labels: labels, truths: truths, predictions: predictions, bestEpoch: 1)
        #expect(report.lowLevel.correct == 1)
        #expect(report.highLevel.classes == GalaxyLabels.highLevelClasses)
        // Er->Ei, Ei->Ec, Sa->Sb, SBa->SBb are right at the high level; SBa->Sa is not.
        #expect(report.highLevel.correct == 5)
        #expect(report.highLevel.errorRate(3) == 0.5)
        #expect(report.svg.contains("<svg"))
        #expect(report.text.contains("SBa"))
    }
}
