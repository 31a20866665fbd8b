import GalaxyEngine

/// A model after the engine loaded it: what `model_validated` records.
public struct ValidatedModel: Sendable, Hashable {
    /// The low-level labels, in output order.
    public var labels: [String]
    /// The metadata read from the ONNX, as a JSON object.
    public var metadataJSON: String
    public init(labels: [String], metadataJSON: String) {
        self.labels = labels
        self.metadataJSON = metadataJSON
    }
}

/// Local validation of a model file with the engine, before anything touches the database.
public enum ModelValidation {
    /// Loads the model as a daemon would.
    /// - Throws: the engine's `ModelError`, naming the node, operator or field at fault.
    public static func validate(onnx: [UInt8]) throws -> ValidatedModel {
        let model = try InferenceModel(onnx: onnx)
        return ValidatedModel(
            labels: model.metadata.labels, metadataJSON: EngineModelLoader.metadataJSON(model.metadata))
    }
}
