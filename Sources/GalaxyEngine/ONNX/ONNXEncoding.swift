// Writing ONNX messages in protobuf wire format, field numbers as in onnx.proto.

extension ONNX.ModelProto {
    /// The model as protobuf bytes, ready to save as a `.onnx` file.
    public func serialized() -> [UInt8] {
        var w = ProtobufWriter()
        w.writeInt64(1, irVersion)
        if !producerName.isEmpty { w.writeString(2, producerName) }
        if !producerVersion.isEmpty { w.writeString(3, producerVersion) }
        if !domain.isEmpty { w.writeString(4, domain) }
        if modelVersion != 0 { w.writeInt64(5, modelVersion) }
        if !docString.isEmpty { w.writeString(6, docString) }
        w.writeMessage(7) { graph.encode(into: &$0) }
        for opset in opsetImports {
            w.writeMessage(8) { m in
                if !opset.domain.isEmpty { m.writeString(1, opset.domain) }
                m.writeInt64(2, opset.version)
            }
        }
        for entry in metadataProps {
            w.writeMessage(14) { m in
                m.writeString(1, entry.key)
                m.writeString(2, entry.value)
            }
        }
        return w.bytes
    }
}

extension ONNX.GraphProto {
    func encode(into w: inout ProtobufWriter) {
        for node in nodes { w.writeMessage(1) { node.encode(into: &$0) } }
        if !name.isEmpty { w.writeString(2, name) }
        for tensor in initializers { w.writeMessage(5) { tensor.encode(into: &$0) } }
        for info in inputs { w.writeMessage(11) { info.encode(into: &$0) } }
        for info in outputs { w.writeMessage(12) { info.encode(into: &$0) } }
        for info in valueInfo { w.writeMessage(13) { info.encode(into: &$0) } }
    }
}

extension ONNX.NodeProto {
    func encode(into w: inout ProtobufWriter) {
        for input in inputs { w.writeString(1, input) }
        for output in outputs { w.writeString(2, output) }
        if !name.isEmpty { w.writeString(3, name) }
        w.writeString(4, opType)
        for attribute in attributes { w.writeMessage(5) { attribute.encode(into: &$0) } }
        if !domain.isEmpty { w.writeString(7, domain) }
    }
}

extension ONNX.AttributeProto {
    func encode(into w: inout ProtobufWriter) {
        w.writeString(1, name)
        switch type {
        case .float: w.writeFloat(2, f)
        case .int: w.writeInt64(3, i)
        case .string: w.writeBytes(4, s)
        case .tensor: if let t { w.writeMessage(5) { t.encode(into: &$0) } }
        case .floats: w.writeRepeatedFloats(7, floats)
        case .ints: w.writeRepeatedVarints(8, ints)
        case .strings: for s in strings { w.writeBytes(9, s) }
        default: break
        }
        w.writeInt64(20, Int64(type.rawValue))
    }
}

extension ONNX.TensorProto {
    func encode(into w: inout ProtobufWriter) {
        w.writeRepeatedVarints(1, dims.map(Int64.init))
        w.writeInt64(2, Int64(dataType))
        w.writePackedFloats(4, floatData)
        w.writePackedVarints(5, int32Data.map(Int64.init))
        w.writePackedVarints(7, int64Data)
        if !name.isEmpty { w.writeString(8, name) }
        if !rawData.isEmpty { w.writeBytes(9, rawData) }
        w.writePackedDoubles(10, doubleData)
    }
}

extension ONNX.ValueInfoProto {
    func encode(into w: inout ProtobufWriter) {
        w.writeString(1, name)
        w.writeMessage(2) { type in
            type.writeMessage(1) { tensor in
                tensor.writeInt64(1, Int64(elemType))
                if let shape {
                    tensor.writeMessage(2) { s in
                        for dim in shape {
                            s.writeMessage(1) { d in
                                switch dim {
                                case .value(let v): d.writeInt64(1, Int64(v))
                                case .param(let p): d.writeString(2, p)
                                case .unknown: break
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension ONNX {
    /// `bytes` of a model with `entries` added to its `metadata_props`. The entries are appended as
    /// protobuf fields, so nothing else in the file changes, and a key given again overrides the
    /// earlier value (`ModelProto.metadata` reads the last one).
    public static func appendingMetadata(_ entries: [StringStringEntry], to bytes: [UInt8]) -> [UInt8] {
        var w = ProtobufWriter()
        for entry in entries {
            w.writeMessage(14) { m in
                m.writeString(1, entry.key)
                m.writeString(2, entry.value)
            }
        }
        return bytes + w.bytes
    }
}
