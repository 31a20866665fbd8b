import Foundation
import GalaxyCore
import GalaxyImage

/// What a model's scores are: raw logits (the engine applies softmax) or probabilities.
public enum OutputKind: String, Sendable, Codable, Equatable {
    case logits, probabilities
}

/// The model contract's `metadata_props`: labels, their high-level classes, and how images must be
/// preprocessed.
public struct ModelMetadata: Sendable, Equatable {
    /// The K class labels, in output order (`galaxy.labels`).
    public var labels: [String]
    /// The high-level class of each label, in the same order (`galaxy.classes`); by default the
    /// standard collapse `GalaxyLabels.highLevelClass(of:)`.
    public var classes: [String]
    /// The side S of the square input (`galaxy.input_size`).
    public var inputSize: Int
    /// The border fraction cropped before resizing (`galaxy.crop_fraction`).
    public var cropFraction: Double
    /// Whether outputs are logits or probabilities (`galaxy.output`).
    public var output: OutputKind
    /// Per-channel r,g,b normalisation (`galaxy.mean`, `galaxy.std`), or nil.
    public var mean: [Float]?
    public var std: [Float]?
    /// The DCT scaling the model was trained with (`galaxy.decode_scale`).
    public var decodeScale: DecodeScale
    /// The arithmetic of the convolutions (`galaxy.precision`; fp32 when absent).
    public var precision: Precision
    /// The accuracy check a reduced-precision variant passed, as the JSON `galaxy model add
    /// --precision` wrote (`galaxy.precision_check`), or nil.
    public var precisionCheck: String?

    /// Metadata keys of the contract.
    public enum Key {
        public static let labels = "galaxy.labels"
        public static let classes = "galaxy.classes"
        public static let inputSize = "galaxy.input_size"
        public static let cropFraction = "galaxy.crop_fraction"
        public static let output = "galaxy.output"
        public static let mean = "galaxy.mean"
        public static let std = "galaxy.std"
        public static let decodeScale = "galaxy.decode_scale"
        public static let precision = "galaxy.precision"
        public static let precisionCheck = "galaxy.precision_check"
    }

    /// - Parameter classes: the high-level class of each label; nil takes the standard collapse.
    public init(
        labels: [String] = GalaxyLabels.standard, classes: [String]? = nil, inputSize: Int = 50, cropFraction: Double = 0.26,
        output: OutputKind = .logits, mean: [Float]? = nil, std: [Float]? = nil, decodeScale: DecodeScale = .full,
        precision: Precision = .fp32, precisionCheck: String? = nil
    ) {
        self.labels = labels
        self.classes = classes ?? labels.map(GalaxyLabels.highLevelClass(of:))
        self.inputSize = inputSize
        self.cropFraction = cropFraction
        self.output = output
        self.mean = mean
        self.std = std
        self.decodeScale = decodeScale
        self.precision = precision
        self.precisionCheck = precisionCheck
    }

    /// The labels and their classes as one vocabulary, for parsing catalog labels and for reports.
    ///
    /// Always valid for metadata read from a model with two or more outputs (the load checks
    /// `galaxy.labels` and `galaxy.classes`); hand-built metadata must hold two or more distinct
    /// labels and one class per label.
    public var vocabulary: LabelVocabulary {
        do {
            return try LabelVocabulary(labels: labels, classes: classes)
        } catch {
            preconditionFailure("ModelMetadata.vocabulary: \(error)")
        }
    }

    /// The preprocessing this model expects.
    public var preprocessOptions: PreprocessOptions {
        PreprocessOptions(cropFraction: cropFraction, size: inputSize, decodeScale: decodeScale, mean: mean, std: std)
    }

    /// The metadata as `metadata_props` entries, for writing a model.
    public var properties: [ONNX.StringStringEntry] {
        var entries = [
            ONNX.StringStringEntry(key: Key.labels, value: labels.joined(separator: ",")),
            ONNX.StringStringEntry(key: Key.classes, value: classes.joined(separator: ",")),
            ONNX.StringStringEntry(key: Key.inputSize, value: String(inputSize)),
            ONNX.StringStringEntry(key: Key.cropFraction, value: String(cropFraction)),
            ONNX.StringStringEntry(key: Key.output, value: output.rawValue),
            ONNX.StringStringEntry(key: Key.decodeScale, value: decodeScale.metadataValue),
        ]
        if let mean { entries.append(.init(key: Key.mean, value: mean.map { String($0) }.joined(separator: ","))) }
        if let std { entries.append(.init(key: Key.std, value: std.map { String($0) }.joined(separator: ","))) }
        if precision != .fp32 { entries.append(.init(key: Key.precision, value: precision.rawValue)) }
        if let precisionCheck { entries.append(.init(key: Key.precisionCheck, value: precisionCheck)) }
        return entries
    }

    /// Reads the metadata of a model whose graph has input side `inputSize` and `outputCount`
    /// classes, filling defaults for absent keys.
    /// - Throws: `ModelError` (`.invalidMetadata`) naming the key that is malformed or does not
    ///   match the graph.
    public init(model: ONNX.ModelProto, inputSize: Int, outputCount: Int, endsWithSoftmax: Bool = false) throws(ModelError) {
        func bad(_ key: String, _ text: String) -> ModelError {
            ModelError(.invalidMetadata, "metadata_props '\(key)': \(text)")
        }
        if let text = model.metadata(Key.labels) {
            let labels = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard labels.count == outputCount else {
                throw bad(Key.labels, "lists \(labels.count) labels but the model outputs \(outputCount) classes")
            }
            guard !labels.contains(""), Set(labels).count == labels.count else {
                throw bad(Key.labels, "labels must be non-empty and distinct, got '\(text)'")
            }
            self.labels = labels
        } else if outputCount == GalaxyLabels.standard.count {
            labels = GalaxyLabels.standard
        } else {
            labels = (0..<outputCount).map { "class\($0)" }
        }
        classes = try Self.readClasses(model, labels: labels)
        if let text = model.metadata(Key.inputSize) {
            guard let s = Int(text.trimmingCharacters(in: .whitespaces)), s == inputSize else {
                throw bad(Key.inputSize, "is '\(text)' but the graph input is [N,3,\(inputSize),\(inputSize)]")
            }
        }
        self.inputSize = inputSize
        if let text = model.metadata(Key.cropFraction) {
            guard let f = Double(text.trimmingCharacters(in: .whitespaces)), f >= 0, f < 0.5 else {
                throw bad(Key.cropFraction, "'\(text)' is not a number in [0, 0.5)")
            }
            cropFraction = f
        } else {
            cropFraction = 0.26
        }
        if let text = model.metadata(Key.output) {
            guard let kind = OutputKind(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
                throw bad(Key.output, "'\(text)' is neither 'logits' nor 'probabilities'")
            }
            output = kind
        } else {
            output = endsWithSoftmax ? .probabilities : .logits
        }
        func triple(_ key: String) throws(ModelError) -> [Float]? {
            guard let text = model.metadata(key) else { return nil }
            let parts = text.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 3, parts.allSatisfy({ $0.isFinite }) else { throw bad(key, "'\(text)' is not three numbers r,g,b") }
            return parts
        }
        mean = try triple(Key.mean)
        std = try triple(Key.std)
        if (mean == nil) != (std == nil) {
            throw bad(mean == nil ? Key.mean : Key.std, "is missing; galaxy.mean and galaxy.std must be given together")
        }
        if let std, std.contains(where: { !($0 > 0) }) { throw bad(Key.std, "values must be positive") }
        if let text = model.metadata(Key.decodeScale) {
            guard let scale = DecodeScale(metadataValue: text) else { throw bad(Key.decodeScale, "'\(text)' is not 1, 1/2, 1/4 or 1/8") }
            decodeScale = scale
        } else {
            decodeScale = .full
        }
        precision = try Self.readPrecision(model)
        precisionCheck = model.metadata(Key.precisionCheck)
    }

    /// `galaxy.precision`, fp32 when absent; read before the graph is compiled, which needs it.
    static func readPrecision(_ model: ONNX.ModelProto) throws(ModelError) -> Precision {
        guard let text = model.metadata(Key.precision) else { return .fp32 }
        guard let precision = Precision(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
            throw ModelError(
                .invalidMetadata,
                "metadata_props '\(Key.precision)': '\(text)' is not one of \(Precision.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return precision
    }

    /// `galaxy.classes`, the one place a model's label-to-class map is read: one non-empty class
    /// per label, or the standard collapse when the key is absent.
    private static func readClasses(_ model: ONNX.ModelProto, labels: [String]) throws(ModelError) -> [String] {
        guard let text = model.metadata(Key.classes) else { return labels.map(GalaxyLabels.highLevelClass(of:)) }
        let classes = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard classes.count == labels.count else {
            throw ModelError(
                .invalidMetadata,
                "metadata_props '\(Key.classes)': lists \(classes.count) classes but '\(Key.labels)' has \(labels.count) labels; "
                    + "give one class per label, in the same order")
        }
        if let empty = classes.firstIndex(of: "") {
            throw ModelError(
                .invalidMetadata,
                "metadata_props '\(Key.classes)': the class of label '\(labels[empty])' (entry \(empty + 1)) is empty, got '\(text)'")
        }
        return classes
    }
}
