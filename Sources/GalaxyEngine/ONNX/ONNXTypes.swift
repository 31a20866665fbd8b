/// The ONNX protobuf messages the engine reads and the trainer writes, as plain Swift values.
/// Parse with `ONNX.ModelProto(serialized:)`, write with `serialized()`. Only the fields a CNN
/// needs are kept; other fields are skipped when reading.
public enum ONNX {
    /// `TensorProto.DataType` values used here.
    public enum DataType {
        public static let float: Int32 = 1
        public static let uint8: Int32 = 2
        public static let int8: Int32 = 3
        public static let int32: Int32 = 6
        public static let int64: Int32 = 7
        public static let double: Int32 = 11
    }

    /// `ModelProto`: a graph plus the opsets it uses and free-form metadata.
    public struct ModelProto: Sendable, Equatable {
        public var irVersion: Int64 = 8
        public var opsetImports: [OperatorSetID] = [OperatorSetID(domain: "", version: 13)]
        public var producerName: String = ""
        public var producerVersion: String = ""
        public var domain: String = ""
        public var modelVersion: Int64 = 0
        public var docString: String = ""
        public var graph: GraphProto = GraphProto()
        /// `metadata_props`, in file order (`galaxy.labels`, `galaxy.input_size`, ...).
        public var metadataProps: [StringStringEntry] = []
        /// Number of `functions` entries seen when reading (local functions are not supported).
        public var functionCount: Int = 0

        public init(
            irVersion: Int64 = 8, opsetImports: [OperatorSetID] = [OperatorSetID(domain: "", version: 13)],
            producerName: String = "galaxy", graph: GraphProto = GraphProto(),
            metadataProps: [StringStringEntry] = []
        ) {
            self.irVersion = irVersion
            self.opsetImports = opsetImports
            self.producerName = producerName
            self.graph = graph
            self.metadataProps = metadataProps
        }

        /// The value of a `metadata_props` key, or nil.
        public func metadata(_ key: String) -> String? {
            metadataProps.last(where: { $0.key == key })?.value
        }
    }

    /// `OperatorSetIdProto`.
    public struct OperatorSetID: Sendable, Equatable {
        public var domain: String
        public var version: Int64
        public init(domain: String = "", version: Int64) {
            self.domain = domain
            self.version = version
        }
    }

    /// `StringStringEntryProto`.
    public struct StringStringEntry: Sendable, Equatable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// `GraphProto`: nodes in topological order, weights, inputs and outputs.
    public struct GraphProto: Sendable, Equatable {
        public var name: String = ""
        public var nodes: [NodeProto] = []
        public var initializers: [TensorProto] = []
        public var inputs: [ValueInfoProto] = []
        public var outputs: [ValueInfoProto] = []
        public var valueInfo: [ValueInfoProto] = []
        /// Number of `sparse_initializer` entries seen when reading (not supported).
        public var sparseInitializerCount: Int = 0

        public init(
            name: String = "", nodes: [NodeProto] = [], initializers: [TensorProto] = [],
            inputs: [ValueInfoProto] = [], outputs: [ValueInfoProto] = []
        ) {
            self.name = name
            self.nodes = nodes
            self.initializers = initializers
            self.inputs = inputs
            self.outputs = outputs
        }
    }

    /// `NodeProto`: one operator application.
    public struct NodeProto: Sendable, Equatable {
        public var name: String = ""
        public var opType: String = ""
        public var domain: String = ""
        public var inputs: [String] = []
        public var outputs: [String] = []
        public var attributes: [AttributeProto] = []

        public init(
            opType: String, inputs: [String], outputs: [String], name: String = "",
            attributes: [AttributeProto] = []
        ) {
            self.opType = opType
            self.inputs = inputs
            self.outputs = outputs
            self.name = name
            self.attributes = attributes
        }

        /// The attribute called `name`, or nil.
        public func attribute(_ name: String) -> AttributeProto? {
            attributes.first(where: { $0.name == name })
        }
    }

    /// `AttributeProto`. `type` follows `AttributeProto.AttributeType`.
    public struct AttributeProto: Sendable, Equatable {
        /// `AttributeProto.AttributeType`.
        public enum Kind: Int32, Sendable {
            case undefined = 0, float = 1, int = 2, string = 3, tensor = 4, graph = 5
            case floats = 6, ints = 7, strings = 8, tensors = 9, graphs = 10
            case sparseTensor = 11, sparseTensors = 12, typeProto = 13, typeProtos = 14
        }

        public var name: String = ""
        public var type: Kind = .undefined
        public var f: Float = 0
        public var i: Int64 = 0
        public var s: [UInt8] = []
        public var t: TensorProto? = nil
        public var floats: [Float] = []
        public var ints: [Int64] = []
        public var strings: [[UInt8]] = []

        public init(name: String, type: Kind) {
            self.name = name
            self.type = type
        }

        /// An INT attribute.
        public static func int(_ name: String, _ value: Int) -> AttributeProto {
            var a = AttributeProto(name: name, type: .int)
            a.i = Int64(value)
            return a
        }

        /// A FLOAT attribute.
        public static func float(_ name: String, _ value: Float) -> AttributeProto {
            var a = AttributeProto(name: name, type: .float)
            a.f = value
            return a
        }

        /// An INTS attribute.
        public static func ints(_ name: String, _ values: [Int]) -> AttributeProto {
            var a = AttributeProto(name: name, type: .ints)
            a.ints = values.map(Int64.init)
            return a
        }

        /// A FLOATS attribute.
        public static func floats(_ name: String, _ values: [Float]) -> AttributeProto {
            var a = AttributeProto(name: name, type: .floats)
            a.floats = values
            return a
        }

        /// A STRING attribute.
        public static func string(_ name: String, _ value: String) -> AttributeProto {
            var a = AttributeProto(name: name, type: .string)
            a.s = Array(value.utf8)
            return a
        }

        /// A TENSOR attribute (as used by `Constant`).
        public static func tensor(_ name: String, _ value: TensorProto) -> AttributeProto {
            var a = AttributeProto(name: name, type: .tensor)
            a.t = value
            return a
        }

        /// The STRING value as text.
        public var stringValue: String { String(decoding: s, as: UTF8.self) }
    }

    /// `TensorProto`: dims plus data in one of `raw_data`, `float_data`, `int64_data`, ...
    public struct TensorProto: Sendable, Equatable {
        public var name: String = ""
        public var dims: [Int] = []
        public var dataType: Int32 = DataType.float
        public var rawData: [UInt8] = []
        public var floatData: [Float] = []
        public var int32Data: [Int32] = []
        public var int64Data: [Int64] = []
        public var doubleData: [Double] = []
        /// Set when the tensor's data lives in an external file (not supported).
        public var isExternal: Bool = false

        public init(name: String = "", dims: [Int], dataType: Int32) {
            self.name = name
            self.dims = dims
            self.dataType = dataType
        }

        /// A float32 tensor stored as `raw_data` (little-endian), the layout exporters use.
        public init(name: String, dims: [Int], floats: [Float]) {
            precondition(dims.reduce(1, *) == floats.count, "tensor \(name): dims \(dims) do not hold \(floats.count) values")
            self.init(name: name, dims: dims, dataType: DataType.float)
            var raw = [UInt8]()
            raw.reserveCapacity(floats.count * 4)
            for v in floats {
                let b = v.bitPattern
                raw.append(UInt8(truncatingIfNeeded: b))
                raw.append(UInt8(truncatingIfNeeded: b >> 8))
                raw.append(UInt8(truncatingIfNeeded: b >> 16))
                raw.append(UInt8(truncatingIfNeeded: b >> 24))
            }
            rawData = raw
        }

        /// An int64 tensor in `int64_data` (for example a Reshape target shape).
        public init(name: String, dims: [Int], int64s: [Int64]) {
            precondition(dims.reduce(1, *) == int64s.count, "tensor \(name): dims \(dims) do not hold \(int64s.count) values")
            self.init(name: name, dims: dims, dataType: DataType.int64)
            int64Data = int64s
        }

        /// Number of elements the dims describe.
        public var elementCount: Int { dims.reduce(1, *) }

        /// The values as float32 (from float, double or integer storage).
        /// - Throws: `ModelError` naming the tensor when the data is missing, the wrong size or of
        ///   an unsupported type.
        public func floatValues() throws(ModelError) -> [Float] {
            let count = elementCount
            let values: [Float]
            switch dataType {
            case DataType.float:
                if !rawData.isEmpty {
                    guard rawData.count == count * 4 else { throw sizeError(rawData.count / 4) }
                    values = rawData.withUnsafeBytes { raw in
                        (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                    }
                } else {
                    values = floatData
                }
            case DataType.double:
                if !rawData.isEmpty {
                    guard rawData.count == count * 8 else { throw sizeError(rawData.count / 8) }
                    values = rawData.withUnsafeBytes { raw in
                        (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
                    }
                } else {
                    values = doubleData.map(Float.init)
                }
            case DataType.int64, DataType.int32:
                values = try int64Values().map(Float.init)
            default:
                throw ModelError(.unsupportedAttribute, "tensor '\(name)' has data_type \(dataType); the engine reads FLOAT (1), DOUBLE (11), INT32 (6) and INT64 (7) tensors; export weights as float32")
            }
            if isExternal { throw ModelError(.unsupportedAttribute, "tensor '\(name)' keeps its data in an external file; save the model with all tensors inside the .onnx file") }
            guard values.count == count else { throw sizeError(values.count) }
            return values
        }

        /// The values as integers (from int64, int32 or float storage).
        /// - Throws: `ModelError` naming the tensor when the data is missing or the wrong size.
        public func int64Values() throws(ModelError) -> [Int64] {
            let count = elementCount
            let values: [Int64]
            switch dataType {
            case DataType.int64:
                if !rawData.isEmpty {
                    guard rawData.count == count * 8 else { throw sizeError(rawData.count / 8) }
                    values = rawData.withUnsafeBytes { raw in
                        (0..<count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
                    }
                } else {
                    values = int64Data
                }
            case DataType.int32:
                if !rawData.isEmpty {
                    guard rawData.count == count * 4 else { throw sizeError(rawData.count / 4) }
                    values = rawData.withUnsafeBytes { raw in
                        (0..<count).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
                    }
                } else {
                    values = int32Data.map(Int64.init)
                }
            case DataType.float, DataType.double:
                values = try floatValues().map { Int64($0) }
            default:
                throw ModelError(.unsupportedAttribute, "tensor '\(name)' has data_type \(dataType); expected INT64 (7) or INT32 (6)")
            }
            guard values.count == count else { throw sizeError(values.count) }
            return values
        }

        private func sizeError(_ found: Int) -> ModelError {
            ModelError(.corrupt, "tensor '\(name)' declares dims \(dims) (\(elementCount) values) but holds \(found) values; re-export the model")
        }
    }

    /// `ValueInfoProto` restricted to tensor types: name, element type and shape.
    public struct ValueInfoProto: Sendable, Equatable {
        public var name: String
        /// `TensorProto.DataType` of the elements; 0 when the type is absent.
        public var elemType: Int32
        /// The shape, or nil when the file gives none.
        public var shape: [Dimension]?
        /// True when the type is not a tensor (sequence, map, ...).
        public var isNonTensorType: Bool = false

        public init(name: String, elemType: Int32 = DataType.float, shape: [Dimension]?) {
            self.name = name
            self.elemType = elemType
            self.shape = shape
        }
    }

    /// `TensorShapeProto.Dimension`.
    public enum Dimension: Sendable, Equatable, CustomStringConvertible {
        case value(Int)
        case param(String)
        case unknown

        public var description: String {
            switch self {
            case .value(let v): return String(v)
            case .param(let p): return p
            case .unknown: return "?"
            }
        }
    }
}
