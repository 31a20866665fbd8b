// Reading ONNX messages from protobuf wire format. Unknown fields are skipped; known fields with
// the wrong wire type, bad lengths or truncation throw a ModelError naming the field.

extension ONNX.ModelProto {
    /// Parses a serialized `ModelProto`.
    /// - Throws: `ModelError` (`.corrupt`) naming the message and field where the bytes break.
    public init(serialized bytes: [UInt8]) throws(ModelError) {
        guard !bytes.isEmpty else { throw ModelError(.corrupt, "the ONNX file is empty") }
        var r = ProtobufReader(bytes: bytes, path: "ModelProto")
        self.init()
        opsetImports = []
        producerName = ""
        var sawGraph = false
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try r.expect(wire, .varint, field: "ModelProto.ir_version"); irVersion = try r.readInt64(field: "ir_version")
            case 2: try r.expect(wire, .lengthDelimited, field: "ModelProto.producer_name"); producerName = try r.readString(field: "producer_name")
            case 3: try r.expect(wire, .lengthDelimited, field: "ModelProto.producer_version"); producerVersion = try r.readString(field: "producer_version")
            case 4: try r.expect(wire, .lengthDelimited, field: "ModelProto.domain"); domain = try r.readString(field: "domain")
            case 5: try r.expect(wire, .varint, field: "ModelProto.model_version"); modelVersion = try r.readInt64(field: "model_version")
            case 6: try r.expect(wire, .lengthDelimited, field: "ModelProto.doc_string"); docString = try r.readString(field: "doc_string")
            case 7:
                try r.expect(wire, .lengthDelimited, field: "ModelProto.graph")
                var sub = try r.readMessage(field: "graph", path: "ModelProto.graph")
                graph = try ONNX.GraphProto(reader: &sub)
                sawGraph = true
            case 8:
                try r.expect(wire, .lengthDelimited, field: "ModelProto.opset_import")
                var sub = try r.readMessage(field: "opset_import", path: "ModelProto.opset_import[\(opsetImports.count)]")
                opsetImports.append(try ONNX.OperatorSetID(reader: &sub))
            case 14:
                try r.expect(wire, .lengthDelimited, field: "ModelProto.metadata_props")
                var sub = try r.readMessage(field: "metadata_props", path: "ModelProto.metadata_props[\(metadataProps.count)]")
                metadataProps.append(try ONNX.StringStringEntry(reader: &sub))
            case 25:
                try r.skip(wire, field: field)
                functionCount += 1
            default: try r.skip(wire, field: field)
            }
        }
        guard sawGraph else {
            throw ModelError(.corrupt, "ModelProto.graph (field 7) is missing: this is not an ONNX model, or the file is truncated")
        }
    }
}

extension ONNX.OperatorSetID {
    init(reader r: inout ProtobufReader) throws(ModelError) {
        self.init(domain: "", version: 0)
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try r.expect(wire, .lengthDelimited, field: "\(r.path).domain"); domain = try r.readString(field: "domain")
            case 2: try r.expect(wire, .varint, field: "\(r.path).version"); version = try r.readInt64(field: "version")
            default: try r.skip(wire, field: field)
            }
        }
    }
}

extension ONNX.StringStringEntry {
    init(reader r: inout ProtobufReader) throws(ModelError) {
        self.init(key: "", value: "")
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try r.expect(wire, .lengthDelimited, field: "\(r.path).key"); key = try r.readString(field: "key")
            case 2: try r.expect(wire, .lengthDelimited, field: "\(r.path).value"); value = try r.readString(field: "value")
            default: try r.skip(wire, field: field)
            }
        }
    }
}

extension ONNX.GraphProto {
    init(reader r: inout ProtobufReader) throws(ModelError) {
        self.init()
        let p = r.path
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1:
                try r.expect(wire, .lengthDelimited, field: "\(p).node")
                var sub = try r.readMessage(field: "node", path: "\(p).node[\(nodes.count)]")
                nodes.append(try ONNX.NodeProto(reader: &sub))
            case 2: try r.expect(wire, .lengthDelimited, field: "\(p).name"); name = try r.readString(field: "name")
            case 5:
                try r.expect(wire, .lengthDelimited, field: "\(p).initializer")
                var sub = try r.readMessage(field: "initializer", path: "\(p).initializer[\(initializers.count)]")
                initializers.append(try ONNX.TensorProto(reader: &sub))
            case 11, 12, 13:
                let label = field == 11 ? "input" : field == 12 ? "output" : "value_info"
                let index = field == 11 ? inputs.count : field == 12 ? outputs.count : valueInfo.count
                try r.expect(wire, .lengthDelimited, field: "\(p).\(label)")
                var sub = try r.readMessage(field: label, path: "\(p).\(label)[\(index)]")
                let info = try ONNX.ValueInfoProto(reader: &sub)
                if field == 11 { inputs.append(info) } else if field == 12 { outputs.append(info) } else { valueInfo.append(info) }
            case 15:
                try r.skip(wire, field: field)
                sparseInitializerCount += 1
            default: try r.skip(wire, field: field)
            }
        }
    }
}

extension ONNX.NodeProto {
    init(reader r: inout ProtobufReader) throws(ModelError) {
        self.init(opType: "", inputs: [], outputs: [])
        let p = r.path
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try r.expect(wire, .lengthDelimited, field: "\(p).input"); inputs.append(try r.readString(field: "input"))
            case 2: try r.expect(wire, .lengthDelimited, field: "\(p).output"); outputs.append(try r.readString(field: "output"))
            case 3: try r.expect(wire, .lengthDelimited, field: "\(p).name"); name = try r.readString(field: "name")
            case 4: try r.expect(wire, .lengthDelimited, field: "\(p).op_type"); opType = try r.readString(field: "op_type")
            case 7: try r.expect(wire, .lengthDelimited, field: "\(p).domain"); domain = try r.readString(field: "domain")
            case 5:
                try r.expect(wire, .lengthDelimited, field: "\(p).attribute")
                var sub = try r.readMessage(field: "attribute", path: "\(p).attribute[\(attributes.count)]")
                attributes.append(try ONNX.AttributeProto(reader: &sub))
            default: try r.skip(wire, field: field)
            }
        }
    }
}

extension ONNX.AttributeProto {
    init(reader r: inout ProtobufReader) throws(ModelError) {
        self.init(name: "", type: .undefined)
        let p = r.path
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try r.expect(wire, .lengthDelimited, field: "\(p).name"); name = try r.readString(field: "name")
            case 20:
                try r.expect(wire, .varint, field: "\(p).type")
                let raw = try r.readInt32(field: "type")
                guard let kind = Kind(rawValue: raw) else {
                    throw ModelError(.corrupt, "\(p).type has unknown AttributeType \(raw); re-export the model")
                }
                type = kind
            case 2: try r.expect(wire, .fixed32, field: "\(p).f"); f = try r.readFloat(field: "f")
            case 3: try r.expect(wire, .varint, field: "\(p).i"); i = try r.readInt64(field: "i")
            case 4: try r.expect(wire, .lengthDelimited, field: "\(p).s"); s = try r.readBytes(field: "s")
            case 5:
                try r.expect(wire, .lengthDelimited, field: "\(p).t")
                var sub = try r.readMessage(field: "t", path: "\(p).t")
                t = try ONNX.TensorProto(reader: &sub)
            case 7: try r.appendFloats(wire, field: "\(p).floats", to: &floats)
            case 8: try r.appendVarints(wire, field: "\(p).ints", to: &ints)
            case 9: try r.expect(wire, .lengthDelimited, field: "\(p).strings"); strings.append(try r.readBytes(field: "strings"))
            default: try r.skip(wire, field: field)
            }
        }
        // Old exporters leave `type` out; infer it from the field that is set.
        if type == .undefined {
            if t != nil { type = .tensor }
            else if !ints.isEmpty { type = .ints }
            else if !floats.isEmpty { type = .floats }
            else if !strings.isEmpty { type = .strings }
            else if !s.isEmpty { type = .string }
        }
    }
}

extension ONNX.TensorProto {
    init(reader r: inout ProtobufReader) throws(ModelError) {
        self.init(dims: [], dataType: 0)
        let p = r.path
        var dims64: [Int64] = []
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try r.appendVarints(wire, field: "\(p).dims", to: &dims64)
            case 2: try r.expect(wire, .varint, field: "\(p).data_type"); dataType = try r.readInt32(field: "data_type")
            case 4: try r.appendFloats(wire, field: "\(p).float_data", to: &floatData)
            case 5:
                var values: [Int64] = []
                try r.appendVarints(wire, field: "\(p).int32_data", to: &values)
                int32Data.append(contentsOf: values.map { Int32(truncatingIfNeeded: $0) })
            case 7: try r.appendVarints(wire, field: "\(p).int64_data", to: &int64Data)
            case 8: try r.expect(wire, .lengthDelimited, field: "\(p).name"); name = try r.readString(field: "name")
            case 9: try r.expect(wire, .lengthDelimited, field: "\(p).raw_data"); rawData = try r.readBytes(field: "raw_data")
            case 10: try r.appendDoubles(wire, field: "\(p).double_data", to: &doubleData)
            case 14:
                try r.expect(wire, .varint, field: "\(p).data_location")
                isExternal = try r.readInt64(field: "data_location") == 1
            default: try r.skip(wire, field: field)
            }
        }
        for d in dims64 where d < 0 || d > Int64(Int32.max) {
            throw ModelError(.corrupt, "\(p).dims holds \(d), not a valid dimension; re-export the model")
        }
        dims = dims64.map { Int($0) }
        var total = 1
        for d in dims {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow, product <= 1 << 34 else {
                throw ModelError(.corrupt, "\(p).dims \(dims) describes an impossibly large tensor")
            }
            total = product
        }
    }
}

extension ONNX.ValueInfoProto {
    init(reader r: inout ProtobufReader) throws(ModelError) {
        self.init(name: "", elemType: 0, shape: nil)
        let p = r.path
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try r.expect(wire, .lengthDelimited, field: "\(p).name"); name = try r.readString(field: "name")
            case 2:
                try r.expect(wire, .lengthDelimited, field: "\(p).type")
                var type = try r.readMessage(field: "type", path: "\(p).type")
                while let (tf, tw) = try type.nextField() {
                    if tf == 1 {
                        try type.expect(tw, .lengthDelimited, field: "\(p).type.tensor_type")
                        var tensor = try type.readMessage(field: "tensor_type", path: "\(p).type.tensor_type")
                        try readTensorType(&tensor)
                    } else if tf == 4 || tf == 5 || tf == 8 || tf == 9 {
                        isNonTensorType = true
                        try type.skip(tw, field: tf)
                    } else {
                        try type.skip(tw, field: tf)
                    }
                }
            default: try r.skip(wire, field: field)
            }
        }
    }

    private mutating func readTensorType(_ r: inout ProtobufReader) throws(ModelError) {
        let p = r.path
        while let (field, wire) = try r.nextField() {
            switch field {
            case 1: try r.expect(wire, .varint, field: "\(p).elem_type"); elemType = try r.readInt32(field: "elem_type")
            case 2:
                try r.expect(wire, .lengthDelimited, field: "\(p).shape")
                var shapeReader = try r.readMessage(field: "shape", path: "\(p).shape")
                var dims: [ONNX.Dimension] = []
                while let (sf, sw) = try shapeReader.nextField() {
                    guard sf == 1 else { try shapeReader.skip(sw, field: sf); continue }
                    try shapeReader.expect(sw, .lengthDelimited, field: "\(p).shape.dim")
                    var dimReader = try shapeReader.readMessage(field: "dim", path: "\(p).shape.dim[\(dims.count)]")
                    var dim = ONNX.Dimension.unknown
                    while let (df, dw) = try dimReader.nextField() {
                        switch df {
                        case 1:
                            try dimReader.expect(dw, .varint, field: "\(dimReader.path).dim_value")
                            dim = .value(Int(try dimReader.readInt64(field: "dim_value")))
                        case 2:
                            try dimReader.expect(dw, .lengthDelimited, field: "\(dimReader.path).dim_param")
                            dim = .param(try dimReader.readString(field: "dim_param"))
                        default: try dimReader.skip(dw, field: df)
                        }
                    }
                    dims.append(dim)
                }
                shape = dims
            default: try r.skip(wire, field: field)
            }
        }
    }
}
