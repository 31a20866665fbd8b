import GalaxyEngine
import GalaxyStore

/// Local validation of a model file with the engine, before anything touches the database.
public enum ModelValidation {
    /// Loads the model as a daemon would.
    /// - Throws: the engine's `ModelError`, naming the node, operator or field at fault.
    public static func validate(onnx: [UInt8]) throws -> ValidatedModel {
        let model = try InferenceModel(onnx: onnx)
        try model.metadata.requireCheckedPrecision()
        return ValidatedModel(
            labels: model.metadata.labels, metadataJSON: EngineModelLoader.metadataJSON(model.metadata))
    }
}
