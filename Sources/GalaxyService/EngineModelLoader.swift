import Foundation
import GalaxyEngine
import GalaxyImage

/// Loads ONNX models with the engine: validation and prepacking happen at load, so a model that
/// loads here scores.
public struct EngineModelLoader: ScoringModelLoader {
    public init() {}

    /// - Throws: the engine's `ModelError`, naming the node, operator or field that is wrong.
    public func load(onnx: [UInt8], threads: Int) throws -> any ScoringModel {
        let model = try InferenceModel(onnx: onnx)
        try model.metadata.requireCheckedPrecision()
        return EngineScoringModel(model: model, threads: threads)
    }

    /// The metadata `model_validated` records, as JSON: labels, their classes, the output kind,
    /// the preprocessing in its one recorded form (`PreprocessOptions.json`), the precision of the
    /// convolutions and, for a reduced-precision variant, its accuracy check.
    public static func metadataJSON(_ metadata: ModelMetadata) -> String {
        var fields = [
            "labels": JSONText.array(metadata.labels),
            "classes": JSONText.array(metadata.classes),
            "output": JSONText.string(metadata.output.rawValue),
            "preprocessing": metadata.preprocessOptions.json,
            "precision": JSONText.string(metadata.precision.rawValue),
        ]
        if let check = metadata.precisionCheck, (try? PrecisionCheckReport(json: check)) != nil {
            fields["precision_check"] = check
        }
        return JSONText.object(encoded: fields)
    }
}

/// An engine model and its classifier, scoring batches on all cores.
final class EngineScoringModel: ScoringModel {
    let model: InferenceModel
    let classifier: Classifier
    let threads: Int
    let preprocessingJSON: String
    let metadataJSON: String
    var labels: [String] { model.metadata.labels }
    var arithmetic: String {
        model.metadata.precision == .fp32 ? "fp32" : "\(model.metadata.precision.rawValue) \(Precision.bf16IsNative ? "native" : "emulated")"
    }

    init(model: InferenceModel, threads: Int) {
        self.model = model
        self.threads = threads
        self.classifier = Classifier(model: model, threads: threads)
        self.preprocessingJSON = model.metadata.preprocessOptions.json
        self.metadataJSON = EngineModelLoader.metadataJSON(model.metadata)
    }

    func score(jpegs: [[UInt8]], imageIDs: [Int64]) -> [JobOutcome] {
        let start = DispatchTime.now().uptimeNanoseconds
        let results = classifier.classify(jpegs)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        // Images run in parallel: each one's share of the wall time, times the threads that ran.
        let perImage = Float(
            elapsed * Double(min(threads, max(jpegs.count, 1))) / Double(max(jpegs.count, 1)))
        return zip(results, imageIDs).map { result, imageID in
            switch result {
            case .success(let prediction):
                return .scored(
                    JobScore(
                        label: prediction.label, galaxyClass: prediction.galaxyClass,
                        probabilities: prediction.probabilities, latencyMilliseconds: perImage))
            case .failure(let error):
                return .failed(JobError(imageID: imageID, imageError: error.imageError))
            }
        }
    }
}
