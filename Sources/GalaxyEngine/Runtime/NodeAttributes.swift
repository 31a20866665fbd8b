/// Typed attribute access for one node, with errors that name the node, operator and attribute.
struct NodeAttributes {
    let node: ONNX.NodeProto
    let label: String

    init(_ node: ONNX.NodeProto, index: Int) {
        self.node = node
        let name = node.name.isEmpty ? "#\(index)" : "'\(node.name)'"
        self.label = "node \(name) (\(node.opType))"
    }

    func error(_ code: ModelError.Code, _ text: String) -> ModelError {
        ModelError(code, "\(label): \(text)")
    }

    private func typed(_ name: String, _ kind: ONNX.AttributeProto.Kind) throws(ModelError) -> ONNX.AttributeProto? {
        guard let a = node.attribute(name) else { return nil }
        guard a.type == kind else {
            throw error(.unsupportedAttribute, "attribute '\(name)' has type \(a.type), expected \(kind)")
        }
        return a
    }

    func int(_ name: String, default value: Int) throws(ModelError) -> Int {
        try typed(name, .int).map { Int($0.i) } ?? value
    }

    func float(_ name: String, default value: Float) throws(ModelError) -> Float {
        try typed(name, .float)?.f ?? value
    }

    func ints(_ name: String) throws(ModelError) -> [Int]? {
        try typed(name, .ints).map { $0.ints.map { Int($0) } }
    }

    func string(_ name: String, default value: String) throws(ModelError) -> String {
        try typed(name, .string)?.stringValue ?? value
    }

    /// Refuses attributes this implementation does not understand, so a model never runs with
    /// semantics silently ignored.
    func allowOnly(_ names: Set<String>) throws(ModelError) {
        for a in node.attributes where !names.contains(a.name) {
            throw error(.unsupportedAttribute, "attribute '\(a.name)' is not supported by the engine")
        }
    }
}
