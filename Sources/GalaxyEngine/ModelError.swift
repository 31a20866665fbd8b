/// Why a model was refused: at load (corrupt protobuf, operator or shape outside the contract) or
/// when it runs. The description names the field, node or operator and says what to do.
public struct ModelError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of problem it is, for callers that branch on it.
    public enum Code: String, Sendable, Equatable {
        /// The bytes are not a well-formed ONNX protobuf (truncated, bad wire type, bad length).
        case corrupt
        /// An operator that the engine does not implement.
        case unsupportedOperator
        /// An attribute value, data type or opset the engine does not implement.
        case unsupportedAttribute
        /// Inputs, outputs or intermediate shapes outside the model contract.
        case invalidShape
        /// The graph references a value that nothing produces, or is otherwise malformed.
        case invalidGraph
        /// `metadata_props` that cannot be used (for example labels count not equal to K).
        case invalidMetadata
        /// An input tensor given at run time does not match the model.
        case invalidInput
    }

    /// The kind of problem.
    public var code: Code
    /// What failed and where (field, node, operator), and what to do.
    public var message: String

    /// - Parameters:
    ///   - code: the kind of problem.
    ///   - message: a sentence naming the field, node or operator.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "model error (\(code.rawValue)): \(message)" }
}
