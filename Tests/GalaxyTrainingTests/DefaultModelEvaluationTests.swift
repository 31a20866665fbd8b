import Foundation
import GalaxyCore
import GalaxyEngine
import GalaxySynth
import Testing

@testable import GalaxyTraining

/// `galaxy evaluate`'s library path: the shipped model on fresh synthetic galaxies, with a set
/// label, a coarse label and a broken file among them.
@Suite struct DefaultModelEvaluationTests {
    @Test func evaluatesTheShippedModelAndAgreesWithItsPredictions() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "galaxy-evaluate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try SyntheticDatasetWriter.write(
            plan: SynthPlan(seed: 9191, count: 26), to: directory.path, threads: 2)
        // Coarser labels for three images, and one file that is not a JPEG.
        let catalogURL = directory.appendingPathComponent("catalog.csv")
        var lines = try String(contentsOf: catalogURL, encoding: .utf8).split(separator: "\n").map(
            String.init)
        for (row, label) in [(1, "Spiral"), (2, "Sa|Sb|SBa"), (3, "Elliptical|A")] {
            var fields = lines[row].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            fields[2] = label
            lines[row] = fields.joined(separator: ",")
        }
        lines.append("broken,,Er")
        try Data("not a jpeg".utf8).write(to: directory.appendingPathComponent("images/broken.jpg"))
        try (lines.joined(separator: "\n") + "\n").write(to: catalogURL, atomically: true, encoding: .utf8)

        let model = try InferenceModel(onnx: try DefaultModel.onnx())
        let images = try TrainingData.loadDirectory(directory)
        let run = try ModelEvaluation.run(model: model, images: images, threads: 2)
        let evaluation = run.evaluation

        #expect(run.failures.count == 1)
        #expect(run.failures.first?.source.hasSuffix("broken.jpg") == true)
        #expect(evaluation.imageCount == 26)
        #expect(run.predictions.count == 26)
        #expect(evaluation.levels.map(\.level) == [.low, .high, .morphology])
        #expect(evaluation.lowLevel.matrix.rows.contains("Sa|Sb|SBa"))
        #expect(evaluation.highLevel.matrix.rows.contains("Spiral|BarredSpiral"))
        #expect(evaluation.highLevel.matrix.rows.contains("Ambiguous|Elliptical"))

        // The same figures, recomputed from the predictions.
        let vocabulary = model.metadata.vocabulary
        let parser = TargetParser(vocabulary: vocabulary)
        let targets = try images.filter { !$0.source.hasSuffix("broken.jpg") }.map {
            try #require(try $0.target(using: parser))
        }
        var lowRight = 0
        var highRight = 0
        for (prediction, target) in zip(run.predictions, targets) {
            let allowed = target.allowedLabels
            if allowed.contains(vocabulary.index(of: prediction.label)!) { lowRight += 1 }
            var byClass: [String: Double] = [:]
            for (i, p) in prediction.scores.enumerated() {
                byClass[vocabulary.classes[i], default: 0] += Double(p)
            }
            let best = vocabulary.highLevelClasses.max { byClass[$0]! < byClass[$1]! }!
            if allowed.contains(where: { vocabulary.classes[$0] == best }) { highRight += 1 }
        }
        #expect(evaluation.lowLevel.correct == lowRight)
        #expect(evaluation.highLevel.correct == highRight)
        #expect(evaluation.lowLevel.accuracy == Double(lowRight) / 26)
        // Sane: above chance (1/13 low-level, 1/4 high-level) and at most 1.
        let low = try #require(evaluation.lowLevel.accuracy)
        let high = try #require(evaluation.highLevel.accuracy)
        let morphology = try #require(evaluation.morphology?.accuracy)
        #expect(low > 1.0 / 13 && low <= 1)
        #expect(high > 0.25 && high <= 1 && morphology > 0 && morphology <= 1)
        let ece = try #require(evaluation.highLevel.calibration.expectedCalibrationError)
        #expect(ece >= 0 && ece <= 1)
        #expect(evaluation.highLevel.calibration.bins.reduce(0) { $0 + $1.count } == 26)

        let report = EvaluationReport(
            model: .init(name: "default", sha256: "00"), source: "--data test", cpu: CPUDescription.current,
            threads: 2,
            rotations: [0], heldOutFraction: nil, labelledImages: images.count, run: run)
        #expect(report.text.contains("failed to decode: 1"))
        #expect(report.svg.contains("reliability"))
        let json = try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any]
        #expect(json?["classifiedImages"] as? Int == 27)
        #expect((json?["evaluation"] as? [String: Any])?["levels"] as? [Any] != nil)
    }
}
