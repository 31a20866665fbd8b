import Foundation
import GalaxyCore
import GalaxyImage
import GalaxySynth
import Testing

@testable import GalaxyTraining

/// Training on images from the synthetic Galaxy Zoo renderer (`galaxy synth`).
@Suite struct SynthTrainingTests {
    @Test func shortRunOnGeneratedGalaxiesBeatsChanceByAWideMargin() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("galaxy-synth-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let plan = SynthPlan(seed: 77, count: 260, size: 160)
        _ = try SyntheticDatasetWriter.write(plan: plan, to: directory.path, threads: 2)
        let images = try TrainingData.loadDirectory(directory)
        #expect(images.count == 260)

        var options = TrainingOptions()
        options.epochs = 8
        options.batchSize = 32
        options.seed = 2
        options.threads = 2
        options.showProgress = false
        var preprocess = PreprocessOptions()
        preprocess.size = 32
        var pipeline = TrainingPipeline(options: options, preprocess: preprocess)
        pipeline.architecture = Architecture(inputSize: 32, convChannels: [16, 32, 32], hidden: 64, classes: 13)
        pipeline.testFraction = 0.25
        let result = try pipeline.run(images)
        // 13 balanced labels: chance is 1/13 (7.7%); the high-level majority class is 5/13 (38%).
        let low = result.report.lowLevel.accuracy
        let high = result.report.highLevel.accuracy
        #expect(result.report.lowLevel.total == 65)
        #expect(low >= 0.25, "low-level test accuracy \(low)\n\(result.report.text)")
        #expect(high >= 0.55, "high-level test accuracy \(high)\n\(result.report.text)")
    }
}
