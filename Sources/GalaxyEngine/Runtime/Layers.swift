import CGalaxyKernels
import Foundation

/// What one step reads and writes when it runs on a chunk of `batch` images: a pointer per value
/// slot (each slot holds `batch` items back to back) and the calling thread's scratch memory.
struct Frame {
    let slots: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    let batch: Int
    let scratch: UnsafeMutablePointer<Float>
}

/// One executable step of a compiled model. Steps hold prepacked weights and the per-item sizes
/// computed at load; `run` allocates nothing.
protocol Layer: Sendable {
    /// The value slots this layer reads, and the one it writes.
    var inputSlots: [Int] { get }
    var output: Int { get }
    /// Floats of scratch memory one call needs (beyond the value slots).
    var scratchCount: Int { get }
    /// Whether the layer gains from a chunk of images at once (a dense layer reads its weights
    /// once per chunk; a small Winograd convolution widens its products over several images).
    /// The layers before the first that does run image by image (`InferenceModel`).
    var prefersChunks: Bool { get }
    func run(_ frame: Frame)
    /// How a team of threads shares this layer on one image: the number of parts of each phase,
    /// at most `parts` each; a phase with no parts is skipped (a layer with alternative splits
    /// numbers all their phases). A phase starts once every part of the one before has finished;
    /// the parts of one phase write disjoint memory, so any member may run any of them.
    func teamPhases(parts: Int) -> [Int]
    /// Floats of its own a team member needs to run a part.
    var teamTemporaryCount: Int { get }
    /// Runs part `part` of the `parts` of phase `phase` on the frame's single image.
    func run(_ frame: Frame, phase: Int, part: Int, of parts: Int, temporary: UnsafeMutablePointer<Float>)
}

/// Layers too small to be worth splitting run whole, as one part, on whichever member takes it.
extension Layer {
    var prefersChunks: Bool { false }
    func teamPhases(parts: Int) -> [Int] { [1] }
    var teamTemporaryCount: Int { 0 }
    func run(_ frame: Frame, phase: Int, part: Int, of parts: Int, temporary: UnsafeMutablePointer<Float>) { run(frame) }
}

/// Splits of one image's work among team members.
enum TeamSplit {
    /// Parts per split phase for a team of `members`: two each, so that a member who arrives late
    /// or loses its core for a while is evened out by taking parts, while a part stays large. With 2
    /// threads on Zen 4 (shipped model, batch 1): 2 parts 4,350 images/s, 4 parts 4,300, 8 parts
    /// 4,000, 16 parts 3,750 (3 and 6 parts split 2:1 and ran slower).
    static func parts(members: Int) -> Int { 2 * members }

    /// Part `part` of `parts` near-equal slices of `0..<count` whose starts are multiples of
    /// `align` (so GEMM column blocks stay whole); with an alignment, trailing slices may be empty.
    static func slice(_ part: Int, of parts: Int, count: Int, align: Int = 1) -> Range<Int> {
        if align == 1 { return (part * count / parts)..<((part + 1) * count / parts) }
        let each = ((count + parts - 1) / parts + align - 1) / align * align
        let lower = min(count, part * each)
        return lower..<min(count, lower + each)
    }
}

/// Convolution (any padding, stride, dilation, groups) with folded batch norm, bias and fused
/// activation. Lowered per image to im2col + GEMM, a direct GEMM for 1x1, or a direct depthwise loop.
final class ConvLayer: Layer {
    enum Lowering: Sendable { case pointwise, im2col, depthwise, winograd }

    let input: Int, output: Int
    let channels: Int, height: Int, width: Int
    let outChannels: Int, groups: Int
    let window: Window2D
    let outHeight: Int, outWidth: Int
    /// `[outChannels, channels/groups * kH * kW]`, batch norm already folded in.
    let weights: [Float]
    let bias: [Float]
    let activation: Activation
    let lowering: Lowering
    /// True when a following max pool adds the bias and applies the activation on its 4x smaller
    /// output instead (max commutes with a per-channel shift and monotonic activations).
    let deferEpilogue: Bool
    /// True when this layer also does a following 2x2, stride-2 max pool (Winograd only): the
    /// output transform writes `[outChannels, outHeight / 2, outWidth / 2]`, and bias and
    /// activation apply to that.
    let maxPooled: Bool
    /// `U[16][outChannels][channels]` when lowered to Winograd F(2x2, 3x3).
    let winogradWeights: [Float]
    /// Images the Winograd lowering transforms per pass (`Winograd.imagesPerPass`); 1 otherwise.
    let imagesPerPass: Int
    /// The arithmetic of the products; depthwise convolutions stay fp32.
    let precision: Precision
    /// With bf16 precision, the GEMM's weights as bf16 pairs (`Kernels.packBF16Pairs`): U's
    /// `16 * outChannels` rows for Winograd, else `weights`' `outChannels` rows.
    let bf16Weights: [UInt32]
    /// For a bf16 Winograd convolution, each U[k]'s pairs again as panels of 32 rows
    /// (`Winograd.bf16Panels`), for the native path's narrow column blocks.
    let bf16Panels: [UInt32]
    /// For an fp32 Winograd convolution, each U[k] again as panels of 32 rows (`Winograd.panels`),
    /// for the AVX-512 paths' narrow column blocks.
    let panels: [Float]

    init(
        input: Int, output: Int, channels: Int, height: Int, width: Int, outChannels: Int, groups: Int,
        window: Window2D, outHeight: Int, outWidth: Int, weights: [Float], bias: [Float], activation: Activation,
        deferEpilogue: Bool = false, maxPooled: Bool = false, precision: Precision = .fp32
    ) {
        self.deferEpilogue = deferEpilogue
        self.maxPooled = maxPooled
        self.input = input
        self.output = output
        self.channels = channels
        self.height = height
        self.width = width
        self.outChannels = outChannels
        self.groups = groups
        self.window = window
        self.outHeight = outHeight
        self.outWidth = outWidth
        self.weights = weights
        self.bias = bias
        self.activation = activation
        lowering = Self.lowering(channels: channels, outChannels: outChannels, groups: groups, window: window)
        precondition(!maxPooled || lowering == .winograd, "only a Winograd convolution fuses its max pool")
        winogradWeights = lowering == .winograd ? Winograd.transformWeights(weights, outChannels: outChannels, inChannels: channels) : []
        imagesPerPass = lowering == .winograd ? Winograd.imagesPerPass(outHeight: outHeight, outWidth: outWidth) : 1
        self.precision = lowering == .depthwise ? .fp32 : precision
        switch (self.precision, lowering) {
        case (.bf16, .winograd):
            bf16Weights = Kernels.packBF16Pairs(winogradWeights, rows: 16 * outChannels, k: channels)
        case (.bf16, _):
            bf16Weights = Kernels.packBF16Pairs(weights, rows: outChannels, k: weights.count / max(outChannels, 1))
        case (.fp32, _):
            bf16Weights = []
        }
        bf16Panels =
            self.precision == .bf16 && lowering == .winograd
            ? Winograd.bf16Panels(bf16Weights, outChannels: outChannels, inChannels: channels) : []
        panels =
            self.precision == .fp32 && lowering == .winograd
            ? Winograd.panels(winogradWeights, outChannels: outChannels, inChannels: channels) : []
    }

    /// How a convolution of this shape runs.
    static func lowering(channels: Int, outChannels: Int, groups: Int, window w: Window2D) -> Lowering {
        if groups == channels && groups > 1 { return .depthwise }
        if groups == 1 && w.kernelH == 1 && w.kernelW == 1 && w.strideH == 1 && w.strideW == 1
            && w.padTop == 0 && w.padLeft == 0 && w.padBottom == 0 && w.padRight == 0
        {
            return .pointwise
        }
        if Winograd.isEnabled && groups == 1 && w.kernelH == 3 && w.kernelW == 3 && w.strideH == 1 && w.strideW == 1
            && w.dilationH == 1 && w.dilationW == 1 && channels >= 16 && outChannels >= 16
        {
            return .winograd
        }
        return .im2col
    }

    /// `GALAXY_FUSED_POOL=0` keeps a following 2x2 max pool a layer of its own, for comparison.
    static let fusesMaxPool: Bool = ProcessInfo.processInfo.environment["GALAXY_FUSED_POOL"] != "0"

    var inputSlots: [Int] { [input] }
    var scratchCount: Int {
        switch lowering {
        case .im2col:
            let columns = (channels / groups) * window.kernelH * window.kernelW * outHeight * outWidth
            return im2colPairs ? max(columns, im2colPairsCount(rows: outHeight)) : columns
        case .winograd:
            let bf16 = precision == .bf16
            let byImages = Winograd.scratchCount(
                inChannels: channels, outChannels: outChannels, outHeight: outHeight, outWidth: outWidth,
                images: imagesPerPass, bf16: bf16)
            guard bf16 else { return byImages }
            return max(
                byImages,
                Winograd.tileRowSharedCount(inChannels: channels, outChannels: outChannels, outHeight: outHeight, outWidth: outWidth))
        case .pointwise, .depthwise: return 0
        }
    }

    /// A bf16 im2col convolution writes its im2col matrix straight as the GEMM's bf16 pairs where
    /// the kernel path can (`Kernels.im2colBF16Pairs`), instead of fp32 columns that the GEMM packs.
    private var im2colPairs: Bool { lowering == .im2col && precision == .bf16 && groups == 1 }

    /// The pairs of `rows` output rows, `Winograd.paddedColumns` wide, counted in floats.
    private func im2colPairsCount(rows: Int) -> Int {
        Kernels.bf16PairCount(channels * window.kernelH * window.kernelW) * Winograd.paddedColumns(rows * outWidth)
    }

    /// Output rows `rows` of one image through the im2col pairs and the packed bf16 GEMM, in `scratch`
    /// (`im2colPairsCount(rows:)` floats). False, with nothing written, when the path has no loop for it.
    private func convolveIm2colPairs(
        input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>, rows: Range<Int>, scratch: UnsafeMutablePointer<Float>
    ) -> Bool {
        let k = channels * window.kernelH * window.kernelW
        let pairs = Kernels.bf16PairCount(k)
        let columns = rows.count * outWidth
        let ldp = Winograd.paddedColumns(columns)
        return scratch.withMemoryRebound(to: UInt32.self, capacity: pairs * ldp) { b in
            guard
                Kernels.im2colBF16Pairs(
                    input: x, channels: channels, height: height, width: width, window: window, outputHeight: outHeight,
                    outputWidth: outWidth, rows: rows, pairs: b, ldp: ldp)
            else { return false }
            bf16Weights.withUnsafeBufferPointer { a in
                galaxy_sgemm_bf16_packed(
                    Int32(outChannels), Int32(columns), Int32(k), a.baseAddress!, pairs, nil, b, ldp,
                    y + rows.lowerBound * outWidth, outHeight * outWidth)
            }
            return true
        }
    }

    /// Calls `body` with the Winograd convolution of `images` images from `input`.
    private func withWinogradPass(
        input: UnsafePointer<Float>, images: Int, scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
        _ body: (WinogradPass) -> Void
    ) {
        let bf16 = precision == .bf16
        winogradWeights.withUnsafeBufferPointer { u in
            bf16Weights.withUnsafeBufferPointer { pairs in
                bf16Panels.withUnsafeBufferPointer { bf16Rows in
                    panels.withUnsafeBufferPointer { rows in
                        body(
                            WinogradPass(
                                input: input, images: images, inChannels: channels, height: height, width: width, padTop: window.padTop,
                                padLeft: window.padLeft, transformedWeights: u.baseAddress!, outChannels: outChannels,
                                outHeight: outHeight, outWidth: outWidth, bf16Weights: bf16 ? pairs.baseAddress : nil,
                                bf16Panels: bf16 ? bf16Rows.baseAddress : nil, panels: bf16 ? nil : rows.baseAddress, maxPooled: maxPooled,
                                scratch: scratch, output: output))
                    }
                }
            }
        }
    }

    var prefersChunks: Bool { imagesPerPass > 1 }

    /// Floats per output image: the convolution's planes, or their max pool.
    private var writtenPerChannel: Int { maxPooled ? (outHeight / 2) * (outWidth / 2) : outHeight * outWidth }

    /// Group `g`'s `[coutG, k]` weights times the `columns` of B `[k, plane]` into the same columns
    /// of C, in this layer's precision.
    private func multiply(group g: Int, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, columns: Range<Int>) {
        let plane = outHeight * outWidth
        let coutG = outChannels / groups
        let k = (channels / groups) * window.kernelH * window.kernelW
        let j = columns.lowerBound
        if precision == .bf16 {
            let pairs = Kernels.bf16PairCount(k)
            bf16Weights.withUnsafeBufferPointer { p in
                Kernels.sgemmBF16(
                    m: coutG, n: columns.count, k: k, a: p.baseAddress! + g * coutG * pairs, lda: pairs, b: b + j, ldb: plane,
                    c: c + j, ldc: plane)
            }
        } else {
            weights.withUnsafeBufferPointer { w in
                Kernels.sgemm(
                    m: coutG, n: columns.count, k: k, a: w.baseAddress! + g * coutG * k, lda: k, b: b + j, ldb: plane, c: c + j,
                    ldc: plane)
            }
        }
    }

    /// The epilogue on the floats `within` of every output plane (a team part's rows).
    private func applyEpilogue(_ y: UnsafeMutablePointer<Float>, within: Range<Int>) {
        let written = writtenPerChannel
        bias.withUnsafeBufferPointer { b in
            for o in 0..<outChannels where !within.isEmpty {
                activation.applyWithRowBias(
                    y + o * written + within.lowerBound, rows: 1, columns: within.count, bias: b.baseAddress! + o)
            }
        }
    }

    /// Adds the bias of, and applies the activation to, output channels `channels` of one image.
    private func applyEpilogue(_ y: UnsafeMutablePointer<Float>, channels: Range<Int>) {
        let written = writtenPerChannel
        bias.withUnsafeBufferPointer { b in
            activation.applyWithRowBias(
                y + channels.lowerBound * written, rows: channels.count, columns: written, bias: b.baseAddress! + channels.lowerBound)
        }
    }

    func run(_ f: Frame) {
        let inItem = channels * height * width
        let plane = outHeight * outWidth
        let outItem = outChannels * writtenPerChannel
        let cinG = channels / groups
        let coutG = outChannels / groups
        for n in 0..<f.batch {
            let x = UnsafePointer(f.slots[input] + n * inItem)
            let y = f.slots[output] + n * outItem
            switch lowering {
            case .pointwise:
                multiply(group: 0, b: x, c: y, columns: 0..<plane)
            case .im2col:
                let paired = im2colPairs && convolveIm2colPairs(input: x, output: y, rows: 0..<outHeight, scratch: f.scratch)
                for g in 0..<groups where !paired {
                    Kernels.im2col(
                        input: x + g * cinG * height * width, channels: cinG, height: height, width: width,
                        window: window, outputHeight: outHeight, outputWidth: outWidth, columns: f.scratch)
                    multiply(group: g, b: UnsafePointer(f.scratch), c: y + g * coutG * plane, columns: 0..<plane)
                }
            case .winograd:
                // Several images per pass: at the first image of each group.
                if n % imagesPerPass == 0 {
                    withWinogradPass(input: x, images: min(imagesPerPass, f.batch - n), scratch: f.scratch, output: y) {
                        Winograd.convolve($0)
                    }
                }
            case .depthwise:
                weights.withUnsafeBufferPointer { w in
                    Kernels.depthwiseConv(
                        input: x, channels: channels, height: height, width: width, multiplier: outChannels / channels,
                        weights: w.baseAddress!, window: window, outputHeight: outHeight, outputWidth: outWidth, output: y)
                }
            }
            if !deferEpilogue { applyEpilogue(y, channels: 0..<outChannels) }
        }
    }

    // A team on one image: a bf16 Winograd layer with enough tiles in one phase by bands of tile
    // rows (`tileRowParts`), else the Winograd stages split as `WinogradPass` allows (the epilogue
    // goes with the output transform's channels); im2col and its GEMM together by output rows, a
    // 1x1's GEMM by column blocks, then the epilogue by output channel. Grouped and depthwise
    // convolutions run whole.
    func teamPhases(parts: Int) -> [Int] {
        let epilogue = deferEpilogue ? [] : [min(parts, outChannels)]
        switch lowering {
        case .winograd:
            if let members = tileRowParts(parts: parts) { return [0, 0, 0, members] }
            let units = precision == .bf16 ? Kernels.bf16PairCount(channels) : channels
            // One part per k: the k's of one half cost up to 1.4x those of the other (same GEMM
            // shapes; the per-step timing of a team shows it for either member), so the members
            // even them out by taking k's as they come (shipped model at batch 1, the 6x6 layer's
            // products: waits 6.5 -> 2.3 us an image for bf16, 21 -> 3-7 us for fp32).
            return [min(parts, units), 16, min(parts, outChannels)]
        case .pointwise: return [parts] + epilogue
        case .im2col where groups == 1: return [min(parts, outHeight)] + epilogue
        case .im2col, .depthwise: return [1]
        }
    }

    /// Parts of a bf16 Winograd layer split by tile rows, one per member, when each has at least
    /// 64 tiles, so that its products fill 32-column blocks. 2 threads on Zen 4, shipped model's
    /// bf16 variant, batch 1 (only its 25x25 layer splits so): 7,290-7,500 images/s against
    /// 6,990-7,200 by stages; its 6x6 tiles split by rows ran slower (18 columns a member), and
    /// fp32 layers split so ran 3% slower (first architecture, 5,330 against 5,550 at best).
    private func tileRowParts(parts: Int) -> Int? {
        let members = parts / TeamSplit.parts(members: 1)
        let tiles = Winograd.tiles(outHeight) * Winograd.tiles(outWidth)
        return precision == .bf16 && members > 1 && tiles >= 64 * members ? members : nil
    }

    var teamTemporaryCount: Int {
        if lowering == .winograd {
            return Winograd.temporaryCount(
                outWidth: outWidth, n: Winograd.tiles(outHeight) * Winograd.tiles(outWidth), bf16: precision == .bf16)
        }
        // Each member packs its own rows' pairs: the shared scratch would let one member's GEMM read
        // the next member's columns in its last column block while they are written.
        return im2colPairs ? im2colPairsCount(rows: outHeight) : 0
    }

    func run(_ f: Frame, phase: Int, part: Int, of parts: Int, temporary: UnsafeMutablePointer<Float>) {
        precondition(f.batch == 1, "a team runs one image")
        let x = UnsafePointer(f.slots[input])
        let y = f.slots[output]
        let plane = outHeight * outWidth
        switch lowering {
        case .winograd:
            withWinogradPass(input: x, images: 1, scratch: f.scratch, output: y) { pass in
                switch phase {
                case 0:
                    pass.transformInput(TeamSplit.slice(part, of: parts, count: pass.inputUnits), temporary: temporary)
                case 1: pass.multiply(TeamSplit.slice(part, of: parts, count: 16))
                case 3:
                    let split = TileRowSplit(
                        parts: parts, tilesH: pass.tilesH, tilesW: pass.tilesW, pairs: pass.pairs, outChannels: outChannels)
                    let written = pass.convolveTileRows(split, part: part, temporary: temporary)
                    if !deferEpilogue { applyEpilogue(y, within: written) }
                default:
                    let channels = TeamSplit.slice(part, of: parts, count: outChannels)
                    pass.transformOutput(channels)
                    if !deferEpilogue { applyEpilogue(y, channels: channels) }
                }
            }
        case .depthwise:
            run(f)
        case .im2col where groups > 1:
            run(f)
        case .im2col where phase == 0:
            let rows = TeamSplit.slice(part, of: parts, count: outHeight)
            if im2colPairs && convolveIm2colPairs(input: x, output: y, rows: rows, scratch: temporary) { return }
            Kernels.im2col(
                input: x, channels: channels, height: height, width: width, window: window, outputHeight: outHeight,
                outputWidth: outWidth, columns: f.scratch, outputRows: rows)
            multiply(group: 0, b: UnsafePointer(f.scratch), c: y, columns: (rows.lowerBound * outWidth)..<(rows.upperBound * outWidth))
        case .pointwise where phase == 0:
            multiply(group: 0, b: x, c: y, columns: TeamSplit.slice(part, of: parts, count: plane, align: 32))
        case .pointwise, .im2col:
            applyEpilogue(y, channels: TeamSplit.slice(part, of: parts, count: outChannels))
        }
    }
}

/// `Y = X · W + bias` over rows of the input (Gemm and MatMul against constant weights), with a
/// fused activation. `W` is prepacked `[k, n]` with Gemm's alpha and transB applied.
final class DenseLayer: Layer {
    let input: Int, output: Int
    let rowsPerItem: Int, k: Int, n: Int
    let weights: [Float]
    let bias: [Float]?
    let activation: Activation

    init(input: Int, output: Int, rowsPerItem: Int, k: Int, n: Int, weights: [Float], bias: [Float]?, activation: Activation) {
        self.input = input
        self.output = output
        self.rowsPerItem = rowsPerItem
        self.k = k
        self.n = n
        self.weights = weights
        self.bias = bias
        self.activation = activation
    }

    var inputSlots: [Int] { [input] }
    var scratchCount: Int { 0 }
    var prefersChunks: Bool { true }

    func run(_ f: Frame) {
        let rows = f.batch * rowsPerItem
        let y = f.slots[output]
        weights.withUnsafeBufferPointer { wp in
            Kernels.sgemm(m: rows, n: n, k: k, a: UnsafePointer(f.slots[input]), lda: k, b: wp.baseAddress!, ldb: n, c: y, ldc: n)
        }
        if let bias {
            bias.withUnsafeBufferPointer { activation.applyWithColumnBias(y, rows: rows, columns: n, bias: $0.baseAddress!) }
        } else {
            activation.apply(y, count: rows * n)
        }
    }

    // A team splits one row's outputs into blocks of whole 32-column GEMM tiles: each member reads
    // only its columns of the weights (a 2304x128 layer's are 1.2 MB, read once per image).
    func teamPhases(parts: Int) -> [Int] { rowsPerItem == 1 ? [max(1, min(parts, n / 32))] : [1] }

    func run(_ f: Frame, phase: Int, part: Int, of parts: Int, temporary: UnsafeMutablePointer<Float>) {
        guard rowsPerItem == 1 else { return run(f) }
        let columns = TeamSplit.slice(part, of: parts, count: n, align: 32)
        guard !columns.isEmpty else { return }
        let y = f.slots[output] + columns.lowerBound
        weights.withUnsafeBufferPointer { wp in
            Kernels.sgemm(
                m: 1, n: columns.count, k: k, a: UnsafePointer(f.slots[input]), lda: k, b: wp.baseAddress! + columns.lowerBound, ldb: n,
                c: y, ldc: n)
        }
        if let bias {
            bias.withUnsafeBufferPointer {
                activation.applyWithColumnBias(y, rows: 1, columns: columns.count, bias: $0.baseAddress! + columns.lowerBound)
            }
        } else {
            activation.apply(y, count: columns.count)
        }
    }
}

/// MaxPool, AveragePool and GlobalAveragePool over `[channels, height, width]` items.
final class PoolLayer: Layer {
    enum Kind: Sendable, Equatable { case max, average(countIncludePad: Bool), globalAverage }

    let input: Int, output: Int
    let kind: Kind
    let channels: Int, height: Int, width: Int
    let window: Window2D
    let outHeight: Int, outWidth: Int
    /// A preceding convolution's per-channel bias and activation, applied after max pooling.
    let epilogueBias: [Float]?
    let epilogueActivation: Activation

    init(
        input: Int, output: Int, kind: Kind, channels: Int, height: Int, width: Int, window: Window2D, outHeight: Int, outWidth: Int,
        epilogueBias: [Float]? = nil, epilogueActivation: Activation = .none
    ) {
        self.epilogueBias = epilogueBias
        self.epilogueActivation = epilogueActivation
        self.input = input
        self.output = output
        self.kind = kind
        self.channels = channels
        self.height = height
        self.width = width
        self.window = window
        self.outHeight = outHeight
        self.outWidth = outWidth
    }

    var inputSlots: [Int] { [input] }
    var scratchCount: Int { 0 }

    /// Max pools channels `mine` of each of `batch` images, then applies the epilogue to them.
    private func maxPool(_ f: Frame, channels mine: Range<Int>) {
        let inPlane = height * width, outPlane = outHeight * outWidth
        for n in 0..<f.batch {
            let y = f.slots[output] + (n * channels + mine.lowerBound) * outPlane
            Kernels.maxPool(
                input: f.slots[input] + (n * channels + mine.lowerBound) * inPlane, planes: mine.count, height: height, width: width,
                window: window, outputHeight: outHeight, outputWidth: outWidth, output: y)
            epilogueBias?.withUnsafeBufferPointer { bias in
                epilogueActivation.applyWithRowBias(y, rows: mine.count, columns: outPlane, bias: bias.baseAddress! + mine.lowerBound)
            }
        }
    }

    func teamPhases(parts: Int) -> [Int] { kind == .max ? [min(parts, channels)] : [1] }

    func run(_ f: Frame, phase: Int, part: Int, of parts: Int, temporary: UnsafeMutablePointer<Float>) {
        guard kind == .max else { return run(f) }
        maxPool(f, channels: TeamSplit.slice(part, of: parts, count: channels))
    }

    func run(_ f: Frame) {
        let planes = f.batch * channels
        let x = UnsafePointer(f.slots[input])
        let y = f.slots[output]
        switch kind {
        case .max:
            maxPool(f, channels: 0..<channels)
        case .average(let include):
            Kernels.averagePool(
                input: x, planes: planes, height: height, width: width, window: window, countIncludePad: include,
                outputHeight: outHeight, outputWidth: outWidth, output: y)
        case .globalAverage:
            Kernels.globalAveragePool(input: x, planes: planes, size: height * width, output: y)
        }
    }
}

/// A pointwise activation on its own.
final class ActivationLayer: Layer {
    let input: Int, output: Int, countPerItem: Int
    let activation: Activation

    init(input: Int, output: Int, countPerItem: Int, activation: Activation) {
        self.input = input
        self.output = output
        self.countPerItem = countPerItem
        self.activation = activation
    }

    var inputSlots: [Int] { [input] }
    var scratchCount: Int { 0 }

    func run(_ f: Frame) {
        let count = f.batch * countPerItem
        let y = f.slots[output]
        if input != output { y.update(from: f.slots[input], count: count) }
        activation.apply(y, count: count)
    }
}

/// Batch normalization that could not be folded into a convolution: `x * scale[c] + shift[c]`.
final class ChannelAffineLayer: Layer {
    let input: Int, output: Int, channels: Int, spatial: Int
    let scale: [Float], shift: [Float]

    init(input: Int, output: Int, channels: Int, spatial: Int, scale: [Float], shift: [Float]) {
        self.input = input
        self.output = output
        self.channels = channels
        self.spatial = spatial
        self.scale = scale
        self.shift = shift
    }

    var inputSlots: [Int] { [input] }
    var scratchCount: Int { 0 }

    func run(_ f: Frame) {
        let x = f.slots[input], y = f.slots[output]
        for n in 0..<f.batch {
            for c in 0..<channels {
                let base = (n * channels + c) * spatial
                let s = scale[c], t = shift[c]
                for i in 0..<spatial { y[base + i] = x[base + i] * s + t }
            }
        }
    }
}

/// Softmax along one axis of each item: `outer` runs of `length` values spaced `inner` apart.
final class SoftmaxLayer: Layer {
    let input: Int, output: Int, outer: Int, length: Int, inner: Int

    init(input: Int, output: Int, outer: Int, length: Int, inner: Int) {
        self.input = input
        self.output = output
        self.outer = outer
        self.length = length
        self.inner = inner
    }

    var inputSlots: [Int] { [input] }
    var scratchCount: Int { 0 }

    func run(_ f: Frame) {
        Kernels.softmax(UnsafePointer(f.slots[input]), f.slots[output], outer: f.batch * outer, length: length, inner: inner)
    }
}

/// Concat along an axis after the batch: each item is `outer` repetitions of every input's block.
final class ConcatLayer: Layer {
    let inputs: [Int], blocks: [Int]
    let output: Int, outer: Int

    init(inputs: [Int], blocks: [Int], output: Int, outer: Int) {
        self.inputs = inputs
        self.blocks = blocks
        self.output = output
        self.outer = outer
    }

    var inputSlots: [Int] { inputs }
    var scratchCount: Int { 0 }

    func run(_ f: Frame) {
        var dst = f.slots[output]
        for o in 0..<(f.batch * outer) {
            for (i, slot) in inputs.enumerated() {
                let block = blocks[i]
                dst.update(from: f.slots[slot] + o * block, count: block)
                dst += block
            }
        }
    }
}

/// Copies a value to another slot (when the graph output would otherwise alias its input).
final class CopyLayer: Layer {
    let input: Int, output: Int, countPerItem: Int

    init(input: Int, output: Int, countPerItem: Int) {
        self.input = input
        self.output = output
        self.countPerItem = countPerItem
    }

    var inputSlots: [Int] { [input] }
    var scratchCount: Int { 0 }

    func run(_ f: Frame) {
        f.slots[output].update(from: f.slots[input], count: f.batch * countPerItem)
    }
}
