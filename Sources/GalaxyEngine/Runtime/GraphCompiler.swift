/// A value during compilation: an activation (batched, lives in a slot) or a load-time constant.
enum CompiledValue {
    /// `dims` excludes the batch axis.
    case activation(slot: Int, dims: [Int])
    case constant(dims: [Int], values: [Float], ints: [Int64]?)
}

/// The executable form of a model: steps in order, slot sizes, input and output slots.
struct CompiledGraph: Sendable {
    var layers: [any Layer]
    /// Floats per item held by each slot.
    var slotSizes: [Int]
    var inputSlot: Int
    var outputSlot: Int
    /// `[3, S, S]`.
    var inputDims: [Int]
    /// K.
    var outputCount: Int
    var scratchCount: Int
}

extension CompiledGraph {
    /// The layers before the first that prefers a chunk of images (`Layer.prefersChunks`): a chunk
    /// runs these image by image, so that each convolution's output is pooled and read by the next
    /// layer while it is still in L2.
    var imageByImageLayers: Int { layers.firstIndex { $0.prefersChunks } ?? layers.count }

    /// The slots only those layers read or write, besides the graph's input and output. One image's
    /// worth serves every image of a chunk in turn, so an image's intermediates land where the
    /// previous image's were, still in L2, instead of spreading over the chunk's megabytes.
    var imageLocalSlots: Set<Int> {
        var chunked: Set<Int> = [inputSlot, outputSlot]
        for layer in layers[imageByImageLayers...] {
            chunked.formUnion(layer.inputSlots)
            chunked.insert(layer.output)
        }
        return Set(slotSizes.indices).subtracting(chunked)
    }
}

/// Checks a graph against the model contract and turns it into layers with prepacked weights.
/// Every refusal names the node, operator or field.
struct GraphCompiler {
    private var values: [String: CompiledValue] = [:]
    private var slotSizes: [Int] = []
    private var layers: [any Layer] = []
    private var consumers: [String: Int] = [:]
    private var graphOutput = ""
    /// The arithmetic of the convolutions.
    private var precision = Precision.fp32

    static func compile(_ model: ONNX.ModelProto, precision: Precision = .fp32) throws(ModelError) -> CompiledGraph {
        var compiler = GraphCompiler()
        compiler.precision = precision
        return try compiler.run(model)
    }

    private mutating func newSlot(_ dims: [Int]) -> Int {
        slotSizes.append(dims.reduce(1, *))
        return slotSizes.count - 1
    }

    private mutating func run(_ model: ONNX.ModelProto) throws(ModelError) -> CompiledGraph {
        try Self.checkOpsets(model)
        let graph = model.graph
        if graph.sparseInitializerCount > 0 {
            throw ModelError(.unsupportedAttribute, "graph.sparse_initializer is not supported; store weights as dense initializers")
        }
        for tensor in graph.initializers {
            let floats = try tensor.floatValues()
            let ints = tensor.dataType == ONNX.DataType.int64 || tensor.dataType == ONNX.DataType.int32 ? try tensor.int64Values() : nil
            values[tensor.name] = .constant(dims: tensor.dims, values: floats, ints: ints)
        }
        let initializerNames = Set(graph.initializers.map(\.name))
        let realInputs = graph.inputs.filter { !initializerNames.contains($0.name) }
        guard realInputs.count == 1 else {
            throw ModelError(.invalidShape, "graph.input: the model has \(realInputs.count) inputs (\(realInputs.map(\.name))); the contract is one float32 input [N,3,S,S]")
        }
        let input = realInputs[0]
        let inputDims = try Self.checkInput(input)
        let inputSlot = newSlot(inputDims)
        values[input.name] = .activation(slot: inputSlot, dims: inputDims)

        guard graph.outputs.count == 1 else {
            throw ModelError(.invalidShape, "graph.output: the model has \(graph.outputs.count) outputs; the contract is one output [N,K]")
        }
        graphOutput = graph.outputs[0].name
        for node in graph.nodes {
            for name in node.inputs where !name.isEmpty { consumers[name, default: 0] += 1 }
        }

        var index = 0
        let nodes = graph.nodes
        while index < nodes.count {
            index = try compileNode(nodes, at: index)
        }

        guard let result = values[graphOutput] else {
            throw ModelError(.invalidGraph, "graph.output '\(graphOutput)' is not produced by any node")
        }
        guard case .activation(var outputSlot, let outDims) = result else {
            throw ModelError(.invalidShape, "graph.output '\(graphOutput)' is a constant; it must depend on the input")
        }
        guard outDims.count == 1 else {
            throw ModelError(.invalidShape, "graph.output '\(graphOutput)' has shape [N,\(outDims.map(String.init).joined(separator: ","))]; the contract is [N,K] (add a Flatten)")
        }
        if let declared = graph.outputs[0].shape {
            guard declared.count == 2 else {
                throw ModelError(.invalidShape, "graph.output '\(graphOutput)' is declared with rank \(declared.count); the contract is [N,K]")
            }
            if case .value(let k) = declared[1], k != outDims[0] {
                throw ModelError(.invalidShape, "graph.output '\(graphOutput)' is declared [N,\(k)] but the graph computes [N,\(outDims[0])]")
            }
        }
        if outputSlot == inputSlot {
            let copy = newSlot(outDims)
            layers.append(CopyLayer(input: outputSlot, output: copy, countPerItem: outDims[0]))
            outputSlot = copy
        }
        return CompiledGraph(
            layers: layers, slotSizes: slotSizes, inputSlot: inputSlot, outputSlot: outputSlot, inputDims: inputDims,
            outputCount: outDims[0], scratchCount: layers.map(\.scratchCount).max() ?? 0)
    }

    static func checkOpsets(_ model: ONNX.ModelProto) throws(ModelError) {
        if model.functionCount > 0 {
            throw ModelError(.unsupportedOperator, "ModelProto.functions: model-local functions are not supported; export with them inlined")
        }
        guard let opset = model.opsetImports.first(where: { $0.domain == "" || $0.domain == "ai.onnx" }) else {
            throw ModelError(.unsupportedAttribute, "ModelProto.opset_import has no entry for the default ONNX domain; export with opset 13 or later")
        }
        guard opset.version >= 13 else {
            throw ModelError(.unsupportedAttribute, "ModelProto.opset_import: opset \(opset.version) is older than 13; export with opset 13 or later")
        }
    }

    static func checkInput(_ input: ONNX.ValueInfoProto) throws(ModelError) -> [Int] {
        let what = "graph.input '\(input.name)'"
        guard !input.isNonTensorType, input.elemType == ONNX.DataType.float else {
            throw ModelError(.invalidShape, "\(what) has element type \(input.elemType); the contract is float32 (1)")
        }
        guard let shape = input.shape, shape.count == 4 else {
            throw ModelError(.invalidShape, "\(what) has rank \(input.shape?.count ?? 0); the contract is [N,3,S,S]")
        }
        if case .value(let n) = shape[0] {
            throw ModelError(.invalidShape, "\(what) fixes the batch size to \(n); export with a dynamic first axis (a dim_param such as 'N')")
        }
        var dims: [Int] = []
        for (i, d) in shape.dropFirst().enumerated() {
            guard case .value(let v) = d, v > 0 else {
                throw ModelError(.invalidShape, "\(what) dimension \(i + 1) is '\(d)'; only the batch axis may be dynamic")
            }
            dims.append(v)
        }
        guard dims[0] == 3, dims[1] == dims[2] else {
            throw ModelError(.invalidShape, "\(what) has shape [N,\(dims.map(String.init).joined(separator: ","))]; the contract is [N,3,S,S]")
        }
        return dims
    }

    // MARK: - Nodes

    private func value(_ name: String, _ a: NodeAttributes) throws(ModelError) -> CompiledValue {
        guard let v = values[name] else {
            throw a.error(.invalidGraph, "input '\(name)' is not produced by any earlier node, graph input or initializer")
        }
        return v
    }

    private func activation(_ name: String, _ a: NodeAttributes, rank: Int? = nil) throws(ModelError) -> (slot: Int, dims: [Int]) {
        switch try value(name, a) {
        case .activation(let slot, let dims):
            if let rank, dims.count + 1 != rank {
                throw a.error(.invalidShape, "input '\(name)' has rank \(dims.count + 1) ([N,\(dims.map(String.init).joined(separator: ","))]); expected rank \(rank)")
            }
            return (slot, dims)
        case .constant:
            throw a.error(.invalidGraph, "input '\(name)' is a constant; this operator must run on the batch (fold constant subgraphs before export)")
        }
    }

    private func constant(_ name: String, _ a: NodeAttributes) throws(ModelError) -> (dims: [Int], values: [Float], ints: [Int64]?) {
        switch try value(name, a) {
        case .constant(let dims, let v, let ints): return (dims, v, ints)
        case .activation:
            throw a.error(.invalidGraph, "input '\(name)' must be an initializer or Constant (weights computed at run time are not supported)")
        }
    }

    private func onlyOutput(_ node: ONNX.NodeProto, _ a: NodeAttributes) throws(ModelError) -> String {
        guard let out = node.outputs.first, !out.isEmpty else { throw a.error(.invalidGraph, "has no output") }
        if node.outputs.count > 1 && node.outputs.dropFirst().contains(where: { !$0.isEmpty && consumers[$0, default: 0] > 0 || $0 == graphOutput }) {
            throw a.error(.unsupportedAttribute, "its second output is used; only the first output is supported")
        }
        return out
    }

    private func checkInputCount(_ node: ONNX.NodeProto, _ a: NodeAttributes, _ range: ClosedRange<Int>) throws(ModelError) {
        let present = node.inputs.count
        guard range.contains(present) else {
            throw a.error(.invalidGraph, "has \(present) inputs; expected \(range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)")")
        }
    }

    /// Compiles the node at `index` (and any following nodes fused into it); returns the next index.
    private mutating func compileNode(_ nodes: [ONNX.NodeProto], at index: Int) throws(ModelError) -> Int {
        let node = nodes[index]
        let a = NodeAttributes(node, index: index)
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw a.error(.unsupportedOperator, "operator domain '\(node.domain)' is not supported")
        }
        switch node.opType {
        case "Constant":
            try compileConstant(node, a)
        case "Identity", "Dropout":
            try checkInputCount(node, a, node.opType == "Identity" ? 1...1 : 1...3)
            if node.opType == "Dropout" {
                try a.allowOnly(["seed"])
                if node.inputs.count == 3, !node.inputs[2].isEmpty {
                    let mode = try constant(node.inputs[2], a)
                    if mode.values.first ?? 0 != 0 { throw a.error(.unsupportedAttribute, "training_mode is true; export the model in eval mode") }
                }
            }
            values[try onlyOutput(node, a)] = try value(node.inputs[0], a)
        case "Flatten":
            try compileFlatten(node, a)
        case "Reshape":
            try compileReshape(node, a)
        case "Conv":
            return try compileConv(nodes, index, a)
        case "BatchNormalization":
            try compileStandaloneBatchNorm(node, a)
        case "Gemm", "MatMul":
            return try compileDense(nodes, index, a)
        case "Relu", "LeakyRelu", "Sigmoid", "Tanh":
            try checkInputCount(node, a, 1...1)
            let act = try Self.activation(of: node, a)!
            let x = try activation(node.inputs[0], a)
            let out = newSlot(x.dims)
            layers.append(ActivationLayer(input: x.slot, output: out, countPerItem: x.dims.reduce(1, *), activation: act))
            values[try onlyOutput(node, a)] = .activation(slot: out, dims: x.dims)
        case "MaxPool", "AveragePool":
            try compilePool(node, a)
        case "GlobalAveragePool":
            try checkInputCount(node, a, 1...1)
            try a.allowOnly([])
            let x = try activation(node.inputs[0], a, rank: 4)
            let dims = [x.dims[0], 1, 1]
            let out = newSlot(dims)
            layers.append(PoolLayer(
                input: x.slot, output: out, kind: .globalAverage, channels: x.dims[0], height: x.dims[1], width: x.dims[2],
                window: Window2D(kernelH: x.dims[1], kernelW: x.dims[2]), outHeight: 1, outWidth: 1))
            values[try onlyOutput(node, a)] = .activation(slot: out, dims: dims)
        case "Add", "Mul":
            try compileBroadcast(node, a)
        case "Softmax":
            try checkInputCount(node, a, 1...1)
            try a.allowOnly(["axis"])
            let x = try activation(node.inputs[0], a)
            let rank = x.dims.count + 1
            var axis = try a.int("axis", default: -1)
            if axis < 0 { axis += rank }
            guard axis >= 1, axis < rank else {
                throw a.error(.unsupportedAttribute, "axis \(axis) is the batch axis or out of range for rank \(rank); softmax must run within each item")
            }
            let d = x.dims
            let outer = d[..<(axis - 1)].reduce(1, *)
            let inner = d[axis...].reduce(1, *)
            let out = newSlot(d)
            layers.append(SoftmaxLayer(input: x.slot, output: out, outer: outer, length: d[axis - 1], inner: inner))
            values[try onlyOutput(node, a)] = .activation(slot: out, dims: d)
        case "Concat":
            try compileConcat(node, a)
        default:
            throw a.error(.unsupportedOperator, "operator '\(node.opType)' is not supported; supported: Conv, BatchNormalization, Relu, LeakyRelu, Sigmoid, Tanh, MaxPool, AveragePool, GlobalAveragePool, Gemm, MatMul, Add, Mul, Flatten, Reshape, Softmax, Dropout, Identity, Concat, Constant")
        }
        return index + 1
    }

    static func activation(of node: ONNX.NodeProto, _ a: NodeAttributes) throws(ModelError) -> Activation? {
        switch node.opType {
        case "Relu": try a.allowOnly([]); return .relu
        case "LeakyRelu": try a.allowOnly(["alpha"]); return .leakyRelu(alpha: try a.float("alpha", default: 0.01))
        case "Sigmoid": try a.allowOnly([]); return .sigmoid
        case "Tanh": try a.allowOnly([]); return .tanh
        default: return nil
        }
    }

    private mutating func compileConstant(_ node: ONNX.NodeProto, _ a: NodeAttributes) throws(ModelError) {
        let out = try onlyOutput(node, a)
        guard node.attributes.count == 1, let attr = node.attributes.first else {
            throw a.error(.unsupportedAttribute, "needs exactly one of value, value_float, value_floats, value_int, value_ints")
        }
        switch attr.name {
        case "value":
            guard let t = attr.t else { throw a.error(.unsupportedAttribute, "attribute 'value' holds no tensor") }
            let ints = t.dataType == ONNX.DataType.int64 || t.dataType == ONNX.DataType.int32 ? try t.int64Values() : nil
            values[out] = .constant(dims: t.dims, values: try t.floatValues(), ints: ints)
        case "value_float": values[out] = .constant(dims: [], values: [attr.f], ints: nil)
        case "value_floats": values[out] = .constant(dims: [attr.floats.count], values: attr.floats, ints: nil)
        case "value_int": values[out] = .constant(dims: [], values: [Float(attr.i)], ints: [attr.i])
        case "value_ints": values[out] = .constant(dims: [attr.ints.count], values: attr.ints.map { Float($0) }, ints: attr.ints)
        default:
            throw a.error(.unsupportedAttribute, "attribute '\(attr.name)' is not supported (use value, value_float(s) or value_int(s))")
        }
    }

    private mutating func compileFlatten(_ node: ONNX.NodeProto, _ a: NodeAttributes) throws(ModelError) {
        try checkInputCount(node, a, 1...1)
        try a.allowOnly(["axis"])
        let x = try activation(node.inputs[0], a)
        let rank = x.dims.count + 1
        var axis = try a.int("axis", default: 1)
        if axis < 0 { axis += rank }
        guard axis >= 1, axis <= rank else {
            throw a.error(.unsupportedAttribute, "axis \(axis) would merge the batch axis into another one; use axis 1")
        }
        let head = x.dims[..<(axis - 1)].reduce(1, *)
        guard head == 1 else {
            throw a.error(.unsupportedAttribute, "axis \(axis) would merge the batch axis with dimensions \(Array(x.dims[..<(axis - 1)])); use axis 1")
        }
        values[try onlyOutput(node, a)] = .activation(slot: x.slot, dims: [x.dims[(axis - 1)...].reduce(1, *)])
    }

    private mutating func compileReshape(_ node: ONNX.NodeProto, _ a: NodeAttributes) throws(ModelError) {
        try checkInputCount(node, a, 2...2)
        try a.allowOnly(["allowzero"])
        let x = try activation(node.inputs[0], a)
        let shape = try constant(node.inputs[1], a)
        guard let target = shape.ints, shape.dims.count == 1 else {
            throw a.error(.invalidShape, "shape input '\(node.inputs[1])' must be a 1-D int64 constant")
        }
        let allowZero = try a.int("allowzero", default: 0) != 0
        if allowZero && target.contains(0) {
            throw a.error(.unsupportedAttribute, "allowzero=1 with a 0 in the shape makes an empty tensor")
        }
        guard let first = target.first else { throw a.error(.invalidShape, "shape is empty; the output must keep the batch axis") }
        let full = [-7] + x.dims  // -7 stands for N
        let perItem = x.dims.reduce(1, *)
        var rest: [Int] = []
        var inferred: Int? = nil
        for (i, t) in target.enumerated().dropFirst() {
            if t == 0 {
                guard i < full.count else { throw a.error(.invalidShape, "shape entry \(i) is 0 but the input has rank \(full.count)") }
                rest.append(full[i])
            } else if t == -1 {
                guard inferred == nil, first != -1 else { throw a.error(.invalidShape, "shape \(target) has more than one -1") }
                inferred = rest.count
                rest.append(1)
            } else if t > 0 {
                rest.append(Int(t))
            } else {
                throw a.error(.invalidShape, "shape entry \(t) is invalid")
            }
        }
        guard first == 0 || first == -1 else {
            throw a.error(.invalidShape, "shape \(target) fixes the batch axis to \(first); use 0 or -1 as the first entry so any batch size works")
        }
        let known = rest.reduce(1, *)
        if let inferred {
            guard known > 0, perItem % known == 0 else {
                throw a.error(.invalidShape, "cannot reshape [N,\(x.dims.map(String.init).joined(separator: ","))] to \(target)")
            }
            rest[inferred] = perItem / known
        } else if known != perItem {
            throw a.error(.invalidShape, "cannot reshape [N,\(x.dims.map(String.init).joined(separator: ","))] to \(target): \(known) values per item instead of \(perItem)")
        }
        values[try onlyOutput(node, a)] = .activation(slot: x.slot, dims: rest)
    }

    /// Resolves `pads`/`auto_pad` for one spatial axis pair.
    static func padding(
        _ a: NodeAttributes, input: [Int], kernel: [Int], strides: [Int], dilations: [Int]
    ) throws(ModelError) -> [Int] {
        let autoPad = try a.string("auto_pad", default: "NOTSET")
        switch autoPad {
        case "NOTSET":
            let pads = try a.ints("pads") ?? [0, 0, 0, 0]
            guard pads.count == 4, pads.allSatisfy({ $0 >= 0 }) else {
                throw a.error(.unsupportedAttribute, "pads \(pads) must be 4 non-negative values [top,left,bottom,right]")
            }
            return pads
        case "VALID":
            return [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            var head = [0, 0], tail = [0, 0]
            for i in 0..<2 {
                let out = (input[i] + strides[i] - 1) / strides[i]
                let total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - input[i])
                head[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                tail[i] = total - head[i]
            }
            return [head[0], head[1], tail[0], tail[1]]
        default:
            throw a.error(.unsupportedAttribute, "auto_pad '\(autoPad)' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
        }
    }

    static func pair(_ a: NodeAttributes, _ name: String, default value: Int) throws(ModelError) -> [Int] {
        guard let v = try a.ints(name) else { return [value, value] }
        guard v.count == 2, v.allSatisfy({ $0 >= 1 }) else {
            throw a.error(.unsupportedAttribute, "\(name) \(v) must be two positive values (only 2-D windows are supported)")
        }
        return v
    }

    private mutating func compileConv(_ nodes: [ONNX.NodeProto], _ index: Int, _ a: NodeAttributes) throws(ModelError) -> Int {
        let node = nodes[index]
        try checkInputCount(node, a, 2...3)
        try a.allowOnly(["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"])
        let x = try activation(node.inputs[0], a, rank: 4)
        let w = try constant(node.inputs[1], a)
        guard w.dims.count == 4 else {
            throw a.error(.invalidShape, "weight '\(node.inputs[1])' has shape \(w.dims); expected [M, C/group, kH, kW] (only 2-D convolutions are supported)")
        }
        let group = try a.int("group", default: 1)
        let (c, h, wd) = (x.dims[0], x.dims[1], x.dims[2])
        let cout = w.dims[0]
        guard group >= 1, c % group == 0, cout % group == 0, w.dims[1] * group == c else {
            throw a.error(.invalidShape, "weight shape \(w.dims) with group \(group) does not match \(c) input channels")
        }
        let kernel = [w.dims[2], w.dims[3]]
        if let k = try a.ints("kernel_shape"), k != kernel {
            throw a.error(.invalidShape, "kernel_shape \(k) does not match the weight shape \(w.dims)")
        }
        let strides = try Self.pair(a, "strides", default: 1)
        let dilations = try Self.pair(a, "dilations", default: 1)
        let pads = try Self.padding(a, input: [h, wd], kernel: kernel, strides: strides, dilations: dilations)
        let window = Window2D(
            kernelH: kernel[0], kernelW: kernel[1], strideH: strides[0], strideW: strides[1], padTop: pads[0], padLeft: pads[1],
            padBottom: pads[2], padRight: pads[3], dilationH: dilations[0], dilationW: dilations[1])
        let oh = Window2D.outputSize(input: h, kernel: kernel[0], stride: strides[0], padHead: pads[0], padTail: pads[2], dilation: dilations[0], ceil: false)
        let ow = Window2D.outputSize(input: wd, kernel: kernel[1], stride: strides[1], padHead: pads[1], padTail: pads[3], dilation: dilations[1], ceil: false)
        guard oh > 0, ow > 0 else {
            throw a.error(.invalidShape, "the \(kernel[0])x\(kernel[1]) kernel does not fit the \(h)x\(wd) input")
        }
        var weights = w.values
        var bias = [Float](repeating: 0, count: cout)
        if node.inputs.count == 3, !node.inputs[2].isEmpty {
            let b = try constant(node.inputs[2], a)
            guard b.values.count == cout else { throw a.error(.invalidShape, "bias '\(node.inputs[2])' has \(b.values.count) values for \(cout) output channels") }
            bias = b.values
        }
        // Fold a following BatchNormalization and activation into this layer.
        var out = try onlyOutput(node, a)
        var next = index + 1
        var activation = Activation.none
        while next < nodes.count, isSoleConsumer(nodes[next], of: out) {
            let follower = nodes[next]
            let fa = NodeAttributes(follower, index: next)
            if follower.opType == "BatchNormalization", activation == .none {
                let (scale, shift) = try batchNormAffine(follower, fa, channels: cout)
                let per = weights.count / cout
                for o in 0..<cout {
                    for i in 0..<per { weights[o * per + i] *= scale[o] }
                    bias[o] = bias[o] * scale[o] + shift[o]
                }
            } else if activation == .none, let act = try Self.activation(of: follower, fa) {
                activation = act
            } else {
                break
            }
            out = try onlyOutput(follower, fa)
            next += 1
        }
        let dims = [cout, oh, ow]
        // A sole MaxPool consumer takes over bias and activation on its smaller output.
        let deferToPool = next < nodes.count && nodes[next].opType == "MaxPool" && isSoleConsumer(nodes[next], of: out)
            && activation.commutesWithMax
        if deferToPool, ConvLayer.lowering(channels: c, outChannels: cout, groups: group, window: window) == .winograd,
            ConvLayer.fusesMaxPool
        {
            let pool = nodes[next]
            let poolAttributes = NodeAttributes(pool, index: next)
            let plan = try poolPlan(pool, poolAttributes, input: dims)
            if plan.kind == .max,
                plan.window.coversAlignedTwoByTwoBlocks(height: oh, width: ow, outputHeight: plan.outHeight, outputWidth: plan.outWidth)
            {
                // The Winograd output transform writes the pooled planes (oh / 2 x ow / 2) directly.
                let slot = newSlot(plan.dims)
                layers.append(ConvLayer(
                    input: x.slot, output: slot, channels: c, height: h, width: wd, outChannels: cout, groups: group,
                    window: window, outHeight: oh, outWidth: ow, weights: weights, bias: bias, activation: activation,
                    maxPooled: true, precision: precision))
                values[try onlyOutput(pool, poolAttributes)] = .activation(slot: slot, dims: plan.dims)
                return next + 1
            }
        }
        let slot = newSlot(dims)
        layers.append(ConvLayer(
            input: x.slot, output: slot, channels: c, height: h, width: wd, outChannels: cout, groups: group, window: window,
            outHeight: oh, outWidth: ow, weights: weights, bias: bias, activation: activation, deferEpilogue: deferToPool,
            precision: precision))
        values[out] = .activation(slot: slot, dims: dims)
        if deferToPool {
            try compilePool(nodes[next], NodeAttributes(nodes[next], index: next), epilogue: (bias, activation))
            return next + 1
        }
        return next
    }

    private func isSoleConsumer(_ node: ONNX.NodeProto, of value: String) -> Bool {
        node.inputs.first == value && consumers[value, default: 0] == 1 && value != graphOutput
    }

    private func batchNormAffine(_ node: ONNX.NodeProto, _ a: NodeAttributes, channels: Int) throws(ModelError) -> (scale: [Float], shift: [Float]) {
        try checkInputCount(node, a, 5...5)
        try a.allowOnly(["epsilon", "momentum", "training_mode"])
        if try a.int("training_mode", default: 0) != 0 {
            throw a.error(.unsupportedAttribute, "training_mode=1; export the model in eval mode")
        }
        let eps = try a.float("epsilon", default: 1e-5)
        var parts: [[Float]] = []
        for (i, name) in node.inputs.dropFirst().enumerated() {
            let v = try constant(name, a).values
            guard v.count == channels else {
                throw a.error(.invalidShape, "\(["scale", "B", "input_mean", "input_var"][i]) '\(name)' has \(v.count) values for \(channels) channels")
            }
            parts.append(v)
        }
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            let s = parts[0][c] / (parts[3][c] + eps).squareRoot()
            scale[c] = s
            shift[c] = parts[1][c] - parts[2][c] * s
        }
        return (scale, shift)
    }

    private mutating func compileStandaloneBatchNorm(_ node: ONNX.NodeProto, _ a: NodeAttributes) throws(ModelError) {
        let x = try activation(node.inputs.first ?? "", a)
        guard x.dims.count >= 1 else { throw a.error(.invalidShape, "input has no channel axis") }
        let channels = x.dims[0]
        let (scale, shift) = try batchNormAffine(node, a, channels: channels)
        let slot = newSlot(x.dims)
        layers.append(ChannelAffineLayer(
            input: x.slot, output: slot, channels: channels, spatial: x.dims.dropFirst().reduce(1, *), scale: scale, shift: shift))
        values[try onlyOutput(node, a)] = .activation(slot: slot, dims: x.dims)
    }

    private mutating func compileDense(_ nodes: [ONNX.NodeProto], _ index: Int, _ a: NodeAttributes) throws(ModelError) -> Int {
        let node = nodes[index]
        let isGemm = node.opType == "Gemm"
        try checkInputCount(node, a, isGemm ? 2...3 : 2...2)
        try a.allowOnly(isGemm ? ["alpha", "beta", "transA", "transB"] : [])
        if case .constant = try value(node.inputs[0], a) {
            throw a.error(.invalidGraph, "input A '\(node.inputs[0])' is a constant and B '\(node.inputs[1])' the activation; the batch must be the first axis of A")
        }
        let x = try activation(node.inputs[0], a)
        let w = try constant(node.inputs[1], a)
        let alpha = try a.float("alpha", default: 1)
        let beta = try a.float("beta", default: 1)
        let transA = try a.int("transA", default: 0)
        let transB = try a.int("transB", default: 0)
        if isGemm {
            guard x.dims.count == 1 else { throw a.error(.invalidShape, "A '\(node.inputs[0])' has rank \(x.dims.count + 1); Gemm takes [N,K] (add a Flatten)") }
            guard transA == 0 else {
                throw a.error(.unsupportedAttribute, "transA=1 would put the batch axis of A on the reduction axis; export with transA=0")
            }
        }
        guard w.dims.count == 2 else { throw a.error(.invalidShape, "B '\(node.inputs[1])' has shape \(w.dims); expected a 2-D weight matrix") }
        let k = x.dims[x.dims.count - 1]
        let (rows, cols) = transB != 0 ? (w.dims[1], w.dims[0]) : (w.dims[0], w.dims[1])
        guard rows == k else {
            throw a.error(.invalidShape, "A has \(k) columns but B\(transB != 0 ? "ᵀ" : "") has \(rows) rows (B shape \(w.dims))")
        }
        // Prepack W as [k, cols] row-major with alpha applied.
        var packed = [Float](repeating: 0, count: k * cols)
        for r in 0..<k {
            for c in 0..<cols {
                packed[r * cols + c] = alpha * (transB != 0 ? w.values[c * k + r] : w.values[r * cols + c])
            }
        }
        var bias: [Float]? = nil
        if isGemm, node.inputs.count == 3, !node.inputs[2].isEmpty {
            let cTensor = try constant(node.inputs[2], a)
            let cDims = cTensor.dims
            var b = [Float](repeating: 0, count: cols)
            if cTensor.values.count == 1 {
                b = [Float](repeating: cTensor.values[0] * beta, count: cols)
            } else if cTensor.values.count == cols && (cDims == [cols] || cDims == [1, cols]) {
                b = cTensor.values.map { $0 * beta }
            } else {
                throw a.error(.invalidShape, "C '\(node.inputs[2])' has shape \(cDims); only a scalar, [\(cols)] or [1,\(cols)] bias works for any batch size")
            }
            bias = b
        }
        var out = try onlyOutput(node, a)
        var next = index + 1
        var activation = Activation.none
        // MatMul followed by Add of a [cols] constant is a dense layer with bias (PyTorch Linear).
        if !isGemm, next < nodes.count, nodes[next].opType == "Add", isSoleConsumerAnySide(nodes[next], of: out) {
            let add = nodes[next]
            let other = add.inputs[0] == out ? add.inputs[1] : add.inputs[0]
            if case .constant(let dims, let v, _)? = values[other], v.count == cols, dims.last == cols, dims.dropLast().allSatisfy({ $0 == 1 }) {
                bias = v
                out = try onlyOutput(add, NodeAttributes(add, index: next))
                next += 1
            }
        }
        if next < nodes.count, isSoleConsumer(nodes[next], of: out), let act = try Self.activation(of: nodes[next], NodeAttributes(nodes[next], index: next)) {
            activation = act
            out = try onlyOutput(nodes[next], NodeAttributes(nodes[next], index: next))
            next += 1
        }
        let dims = Array(x.dims.dropLast()) + [cols]
        let slot = newSlot(dims)
        layers.append(DenseLayer(
            input: x.slot, output: slot, rowsPerItem: x.dims.dropLast().reduce(1, *), k: k, n: cols, weights: packed, bias: bias,
            activation: activation))
        values[out] = .activation(slot: slot, dims: dims)
        return next
    }

    private func isSoleConsumerAnySide(_ node: ONNX.NodeProto, of value: String) -> Bool {
        node.inputs.count == 2 && node.inputs.contains(value) && node.inputs[0] != node.inputs[1]
            && consumers[value, default: 0] == 1 && value != graphOutput
    }

    /// What a pooling node computes on an input of `dims` `[C, H, W]`, its attributes checked.
    private struct PoolPlan {
        let kind: PoolLayer.Kind
        let dims: [Int]
        let window: Window2D
        var outHeight: Int { dims[1] }
        var outWidth: Int { dims[2] }
    }

    private func poolPlan(_ node: ONNX.NodeProto, _ a: NodeAttributes, input dims: [Int]) throws(ModelError) -> PoolPlan {
        try checkInputCount(node, a, 1...1)
        let isMax = node.opType == "MaxPool"
        try a.allowOnly(
            isMax
                ? ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"]
                : ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"])
        guard let kernel = try a.ints("kernel_shape"), kernel.count == 2, kernel.allSatisfy({ $0 >= 1 }) else {
            throw a.error(.unsupportedAttribute, "kernel_shape must be two positive values (only 2-D pooling is supported)")
        }
        let (c, h, w) = (dims[0], dims[1], dims[2])
        let strides = try Self.pair(a, "strides", default: 1)
        let dilations = try Self.pair(a, "dilations", default: 1)
        let pads = try Self.padding(a, input: [h, w], kernel: kernel, strides: strides, dilations: dilations)
        let ceil = try a.int("ceil_mode", default: 0) != 0
        let window = Window2D(
            kernelH: kernel[0], kernelW: kernel[1], strideH: strides[0], strideW: strides[1], padTop: pads[0], padLeft: pads[1],
            padBottom: pads[2], padRight: pads[3], dilationH: dilations[0], dilationW: dilations[1])
        let oh = Window2D.outputSize(input: h, kernel: kernel[0], stride: strides[0], padHead: pads[0], padTail: pads[2], dilation: dilations[0], ceil: ceil)
        let ow = Window2D.outputSize(input: w, kernel: kernel[1], stride: strides[1], padHead: pads[1], padTail: pads[3], dilation: dilations[1], ceil: ceil)
        guard oh > 0, ow > 0 else { throw a.error(.invalidShape, "the \(kernel) window does not fit the \(h)x\(w) input") }
        let kind: PoolLayer.Kind = isMax ? .max : .average(countIncludePad: try a.int("count_include_pad", default: 0) != 0)
        return PoolPlan(kind: kind, dims: [c, oh, ow], window: window)
    }

    private mutating func compilePool(
        _ node: ONNX.NodeProto, _ a: NodeAttributes, epilogue: (bias: [Float], activation: Activation)? = nil
    ) throws(ModelError) {
        try checkInputCount(node, a, 1...1)
        let x = try activation(node.inputs[0], a, rank: 4)
        let plan = try poolPlan(node, a, input: x.dims)
        let slot = newSlot(plan.dims)
        layers.append(PoolLayer(
            input: x.slot, output: slot, kind: plan.kind, channels: x.dims[0], height: x.dims[1], width: x.dims[2],
            window: plan.window, outHeight: plan.outHeight, outWidth: plan.outWidth,
            epilogueBias: epilogue?.bias, epilogueActivation: epilogue?.activation ?? .none))
        values[try onlyOutput(node, a)] = .activation(slot: slot, dims: plan.dims)
    }

    private mutating func compileBroadcast(_ node: ONNX.NodeProto, _ a: NodeAttributes) throws(ModelError) {
        try checkInputCount(node, a, 2...2)
        try a.allowOnly([])
        let lhs = try value(node.inputs[0], a), rhs = try value(node.inputs[1], a)
        // Full shapes with -1 for the batch axis of activations.
        func fullShape(_ v: CompiledValue) -> [Int] {
            switch v {
            case .activation(_, let dims): return [-1] + dims
            case .constant(let dims, _, _): return dims
            }
        }
        let sa = fullShape(lhs), sb = fullShape(rhs)
        if case .constant = lhs, case .constant = rhs {
            throw a.error(.invalidGraph, "both inputs are constants; fold constant subgraphs before export")
        }
        let rank = max(sa.count, sb.count)
        let pa = [Int](repeating: 1, count: rank - sa.count) + sa
        let pb = [Int](repeating: 1, count: rank - sb.count) + sb
        // The batch axis must stay axis 0 of the result.
        guard pa[0] == -1 || pb[0] == -1 else {
            throw a.error(.invalidShape, "broadcasting \(node.inputs[0]) \(sa) with \(node.inputs[1]) \(sb) would move the batch axis")
        }
        for i in 0..<rank where i == 0 {
            if (pa[0] != -1 && pa[0] != 1) || (pb[0] != -1 && pb[0] != 1) {
                throw a.error(.invalidShape, "a constant with leading dimension \(max(pa[0], pb[0])) cannot broadcast against the batch axis")
            }
        }
        var outDims: [Int] = []
        for i in 1..<rank {
            let x = pa[i], y = pb[i]
            guard x == y || x == 1 || y == 1 else {
                throw a.error(.invalidShape, "shapes \(sa) and \(sb) do not broadcast (axis \(i): \(x) vs \(y))")
            }
            outDims.append(max(x, y))
        }
        func operand(_ v: CompiledValue, _ padded: [Int]) -> BroadcastLayer.Operand {
            let item = Array(padded.dropFirst())
            var strides = [Int](repeating: 0, count: item.count)
            var s = 1
            for i in stride(from: item.count - 1, through: 0, by: -1) {
                strides[i] = item[i] == 1 ? 0 : s
                s *= item[i]
            }
            switch v {
            case .activation(let slot, let dims): return .init(slot: slot, constant: [], itemStride: dims.reduce(1, *), strides: strides)
            case .constant(_, let values, _): return .init(slot: nil, constant: values, itemStride: 0, strides: strides)
            }
        }
        var oa = operand(lhs, pa), ob = operand(rhs, pb)
        // Items are rank-0 when both inputs are [N]: treat as one axis of length 1.
        if outDims.isEmpty {
            outDims = [1]
            oa.strides = [0]
            ob.strides = [0]
        }
        // Merge adjacent axes whose strides chain for both operands.
        var dims = [outDims[0]], stA = [oa.strides[0]], stB = [ob.strides[0]]
        for i in 1..<outDims.count {
            let d = outDims[i]
            let chainsA = stA[stA.count - 1] == oa.strides[i] * d
            let chainsB = stB[stB.count - 1] == ob.strides[i] * d
            if chainsA && chainsB {
                dims[dims.count - 1] *= d
                stA[stA.count - 1] = oa.strides[i]
                stB[stB.count - 1] = ob.strides[i]
            } else {
                dims.append(d)
                stA.append(oa.strides[i])
                stB.append(ob.strides[i])
            }
        }
        oa.strides = stA
        ob.strides = stB
        let slot = newSlot(outDims)
        layers.append(BroadcastLayer(operation: node.opType == "Add" ? .add : .mul, a: oa, b: ob, output: slot, dims: dims))
        values[try onlyOutput(node, a)] = .activation(slot: slot, dims: outDims == [1] && sa.count <= 1 && sb.count <= 1 ? [] : outDims)
    }

    private mutating func compileConcat(_ node: ONNX.NodeProto, _ a: NodeAttributes) throws(ModelError) {
        try a.allowOnly(["axis"])
        guard !node.inputs.isEmpty else { throw a.error(.invalidGraph, "has no inputs") }
        guard node.attribute("axis") != nil else { throw a.error(.unsupportedAttribute, "attribute 'axis' is required") }
        var parts: [(slot: Int, dims: [Int])] = []
        for name in node.inputs { parts.append(try activation(name, a)) }
        let rank = parts[0].dims.count + 1
        var axis = try a.int("axis", default: 1)
        if axis < 0 { axis += rank }
        guard axis >= 1, axis < rank else { throw a.error(.unsupportedAttribute, "axis \(axis) is the batch axis or out of range; concatenate along axis 1 or later") }
        var outDims = parts[0].dims
        outDims[axis - 1] = 0
        for p in parts {
            var probe = p.dims
            guard probe.count == rank - 1 else { throw a.error(.invalidShape, "inputs have different ranks") }
            outDims[axis - 1] += probe[axis - 1]
            probe[axis - 1] = 0
            var reference = outDims
            reference[axis - 1] = 0
            guard probe == reference else { throw a.error(.invalidShape, "input shapes differ outside axis \(axis): \(parts.map(\.dims))") }
        }
        let outer = outDims[..<(axis - 1)].reduce(1, *)
        let inner = outDims[axis...].reduce(1, *)
        let slot = newSlot(outDims)
        layers.append(ConcatLayer(inputs: parts.map(\.slot), blocks: parts.map { $0.dims[axis - 1] * inner }, output: slot, outer: outer))
        values[try onlyOutput(node, a)] = .activation(slot: slot, dims: outDims)
    }
}
