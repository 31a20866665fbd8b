import Foundation
import GalaxyCore
import GalaxyEngine

/// An image that could not be classified, skipped by the evaluation.
public struct EvaluationFailure: Sendable, Codable, Hashable {
    /// The file path or database row.
    public var source: String
    public var error: String
}

/// Classifies labelled images with a model, on all cores, and evaluates the predictions under
/// the model's own vocabulary (`galaxy evaluate`; the library form for tests and tools).
public struct ModelEvaluation: Sendable {
    public var evaluation: Evaluation
    /// Images that failed to decode, skipped.
    public var failures: [EvaluationFailure]
    /// Labelled rows whose label text was empty, skipped.
    public var unlabelled: Int
    /// The predictions of the evaluated images, in their order.
    public var predictions: [Prediction]

    /// - Parameters:
    ///   - model: the model; its metadata says how to preprocess and what its labels mean.
    ///   - images: labelled images; labels are read with the model's vocabulary.
    ///   - rotations: test-time augmentation (degrees); `[0]` for none.
    ///   - threads: worker threads.
    ///   - progress: advanced per classified image, when given.
    /// - Throws: `TrainingError.label` naming the file and line (or row) whose label is not in the
    ///   model's vocabulary, before anything is classified.
    public static func run(
        model: InferenceModel, images: [LabeledImage], rotations: [Double] = [0], threads: Int,
        progress: ProgressBar? = nil
    ) throws(TrainingError) -> ModelEvaluation {
        let vocabulary = model.metadata.vocabulary
        let parser = TargetParser(vocabulary: vocabulary)
        var labelled: [(image: LabeledImage, target: TrainingTarget)] = []
        var unlabelled = 0
        for image in images {
            if let target = try image.target(using: parser) {
                labelled.append((image, target))
            } else {
                unlabelled += 1
            }
        }
        let classifier = Classifier(model: model, threads: threads)
        // Batches of a few hundred images keep the progress line moving on long runs.
        let batchSize = max(64, 32 * classifier.threads)
        var probabilities: [[Float]] = []
        var targets: [TrainingTarget] = []
        var predictions: [Prediction] = []
        var failures: [EvaluationFailure] = []
        for start in stride(from: 0, to: labelled.count, by: batchSize) {
            let batch = labelled[start..<min(start + batchSize, labelled.count)]
            let results = classifier.classify(batch.map(\.image.jpeg), rotations: rotations)
            var failed = 0
            for (item, result) in zip(batch, results) {
                switch result {
                case .success(let prediction):
                    probabilities.append(prediction.scores)
                    targets.append(item.target)
                    predictions.append(prediction)
                case .failure(let error):
                    failed += 1
                    failures.append(
                        EvaluationFailure(source: item.image.source, error: error.imageError.description))
                }
            }
            progress?.advance(by: batch.count, failed: failed)
        }
        progress?.finish()
        return ModelEvaluation(
            evaluation: Evaluation(vocabulary: vocabulary, probabilities: probabilities, targets: targets),
            failures: failures, unlabelled: unlabelled, predictions: predictions)
    }
}
