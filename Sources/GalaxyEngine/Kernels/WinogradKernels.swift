import CGalaxyKernels
import Foundation

/// Winograd F(2x2, 3x3) convolution: each 2x2 output tile costs 16 multiplies per channel pair
/// instead of 36, as 16 independent GEMMs over transformed tiles. Used for 3x3, stride 1,
/// dilation 1, ungrouped convolutions with enough input channels for the GEMMs to be efficient.
enum Winograd {
    /// `GALAXY_WINOGRAD=0` turns the Winograd lowering off (im2col + GEMM everywhere), for comparison.
    static let isEnabled: Bool = ProcessInfo.processInfo.environment["GALAXY_WINOGRAD"] != "0"

    /// Transforms weights `[outC, inC, 3, 3]` into `U[16][outC][inC]` (U = G g Gᵀ).
    static func transformWeights(_ w: [Float], outChannels: Int, inChannels: Int) -> [Float] {
        var u = [Float](repeating: 0, count: 16 * outChannels * inChannels)
        for o in 0..<outChannels {
            for i in 0..<inChannels {
                let g = Array(w[((o * inChannels + i) * 9)..<((o * inChannels + i) * 9 + 9)])
                // G g: 4x3
                var t = [Float](repeating: 0, count: 12)
                for c in 0..<3 {
                    let g0 = g[c], g1 = g[3 + c], g2 = g[6 + c]
                    t[c] = g0
                    t[3 + c] = (g0 + g1 + g2) / 2
                    t[6 + c] = (g0 - g1 + g2) / 2
                    t[9 + c] = g2
                }
                // (G g) Gᵀ: 4x4
                for r in 0..<4 {
                    let a = t[r * 3], b = t[r * 3 + 1], c = t[r * 3 + 2]
                    let row = [a, (a + b + c) / 2, (a - b + c) / 2, c]
                    for k in 0..<4 { u[((r * 4 + k) * outChannels + o) * inChannels + i] = row[k] }
                }
            }
        }
        return u
    }

    /// Tiles along one axis for an output of `length`.
    static func tiles(_ length: Int) -> Int { (length + 1) / 2 }

    /// Images transformed together, so that each of the 16 GEMMs has at least 64 columns where a
    /// plane has fewer tiles: of the counts that keep it within 64 to 128 columns, the one whose
    /// columns fill the GEMM's 32- and 16-column blocks best (a 12x12 output's 36 tiles run in
    /// threes, 108 columns in 112, instead of alone, 36 in 48).
    static func imagesPerPass(outHeight: Int, outWidth: Int) -> Int {
        let perImage = tiles(outHeight) * tiles(outWidth)
        func filled(_ images: Int) -> Double {
            let n = images * perImage, tail = n % 32
            return Double(n) / Double(n - tail + (tail == 0 ? 0 : tail <= 16 ? 16 : 32))
        }
        let fewest = max(1, 64 / perImage)
        return (fewest...max(fewest, 128 / perImage)).reduce(fewest) { filled($1) > filled($0) + 1e-9 ? $1 : $0 }
    }

    /// Scratch floats for `images` images: the pass's shared buffers (`sharedCount`) and one
    /// member's temporary rows (`temporaryCount`).
    static func scratchCount(inChannels: Int, outChannels: Int, outHeight: Int, outWidth: Int, images: Int, bf16: Bool = false) -> Int {
        let n = tiles(outHeight) * tiles(outWidth) * images
        return sharedCount(inChannels: inChannels, outChannels: outChannels, n: n, bf16: bf16)
            + temporaryCount(outWidth: outWidth, n: n, bf16: bf16)
    }

    /// Transformed input (fp32, or bf16 pairs in rows padded to 32 columns) and GEMM output for `n` tiles.
    static func sharedCount(inChannels: Int, outChannels: Int, n: Int, bf16: Bool) -> Int {
        (bf16 ? 16 * Kernels.bf16PairCount(inChannels) * paddedColumns(n) : 16 * inChannels * n) + 16 * outChannels * n
    }

    /// What one thread's input transform needs of its own: 4 padded rows and, for pairs, the fp32
    /// transform of two planes.
    static func temporaryCount(outWidth: Int, n: Int, bf16: Bool) -> Int {
        4 * (2 * tiles(outWidth) + 2) + (bf16 ? 32 * n : 0)
    }

    /// bf16 pairs of U `[16][outChannels][pairs]` as 16 sets of row panels (`galaxy_pack_bf16_panels`).
    static func bf16Panels(_ pairs: [UInt32], outChannels: Int, inChannels: Int) -> [UInt32] {
        rowPanels(pairs, outChannels: outChannels, values: Kernels.bf16PairCount(inChannels), pack: galaxy_pack_bf16_panels)
    }

    /// fp32 U `[16][outChannels][inChannels]` as 16 sets of row panels (`galaxy_pack_panels`).
    static func panels(_ u: [Float], outChannels: Int, inChannels: Int) -> [Float] {
        rowPanels(u, outChannels: outChannels, values: inChannels, pack: galaxy_pack_panels)
    }

    /// `[16][outChannels][values]` as 16 sets of row panels, for the narrow last column blocks of
    /// the products: `pack` writes every value of one set, zeros included.
    private static func rowPanels<T>(
        _ u: [T], outChannels: Int, values: Int, pack: (UnsafePointer<T>?, Int32, Int32, Int, UnsafeMutablePointer<T>?) -> Void
    ) -> [T] {
        let each = panelCount(outChannels: outChannels, values: values)
        return u.withUnsafeBufferPointer { a in
            [T](unsafeUninitializedCapacity: 16 * each) { out, count in
                for k in 0..<16 {
                    pack(a.baseAddress! + k * outChannels * values, Int32(outChannels), Int32(values), values, out.baseAddress! + k * each)
                }
                count = 16 * each
            }
        }
    }

    /// Values of one U[k]'s panels: whole panels of 32 rows of `values` each (input channels, or
    /// their bf16 pairs).
    static func panelCount(outChannels: Int, values: Int) -> Int { (outChannels + 31) / 32 * values * 32 }

    /// Columns of a row of bf16 pairs: `n` rounded up to the widest GEMM block (32).
    static func paddedColumns(_ n: Int) -> Int { (n + 31) / 32 * 32 }

    /// The shared buffers of one bf16 image split by tile rows among any number of parts
    /// (`TileRowSplit`): at most one tile row per part, whose blocks are then largest.
    static func tileRowSharedCount(inChannels: Int, outChannels: Int, outHeight: Int, outWidth: Int) -> Int {
        let rows = tiles(outHeight)
        let split = TileRowSplit(
            parts: rows, tilesH: rows, tilesW: tiles(outWidth), pairs: Kernels.bf16PairCount(inChannels), outChannels: outChannels)
        return split.blockStart(rows)
    }

    /// Convolves `images` images `[inC, h, w]` (back to back) into `[outC, oh, ow]` each (no bias,
    /// no activation): `WinogradPass`'s three stages in order on the calling thread.
    static func convolve(_ pass: WinogradPass) {
        pass.transformInput(0..<pass.inputUnits, temporary: pass.scratch + pass.sharedCount)
        pass.multiply(0..<16)
        pass.transformOutput(0..<pass.outChannels)
    }
}

/// One image's tile rows split into `parts` near-equal runs for a team: part p transforms, multiplies
/// and transforms back its own rows in a block of the shared buffers of its own (V, then M), so
/// that no cache line is written by two members. V's rows are padded to 32 columns (the bf16
/// products read whole 32-column blocks) plus one, and M's rows have an odd length, so that the
/// 16 planes of either do not lie a multiple of 4 KB apart, in one set of the L1 cache.
struct TileRowSplit {
    let parts: Int, tilesH: Int, tilesW: Int
    /// Rows of V per plane (input channel pairs) and of M (output channels).
    let pairs: Int, outChannels: Int

    func rows(_ part: Int) -> Range<Int> { TeamSplit.slice(part, of: parts, count: tilesH) }

    /// Columns (tiles) of part `part`.
    func count(_ part: Int) -> Int { rows(part).count * tilesW }

    /// Row length of part `part`'s V and M.
    func vRow(_ part: Int) -> Int { Winograd.paddedColumns(count(part)) + 1 }
    func mRow(_ part: Int) -> Int { count(part) | 1 }

    /// Floats of part `part`'s block, V then M, rounded up to a cache line.
    func blockCount(_ part: Int) -> Int {
        (16 * pairs * vRow(part) + 16 * outChannels * mRow(part) + 15) / 16 * 16
    }

    /// Where part `part`'s block starts in the shared buffers.
    func blockStart(_ part: Int) -> Int { (0..<part).reduce(0) { $0 + blockCount($1) } }
}

/// One Winograd convolution of `images` images `[inC, h, w]` (back to back) into `[outC, oh, ow]`
/// each (no bias, no activation), with `transformedWeights` (and their row panels `panels`) or
/// their bf16 pairs `bf16Weights` (and their row panels `bf16Panels`), or with `maxPooled` straight
/// into the 2x2, stride-2 max pool of that output, `[outC, oh / 2, ow / 2]`. Its stages split
/// without changing a result: the input transform by input channel (bf16: channel pair), the 16
/// products by k, the output transform by output channel, so a team of threads can share one
/// image. The transforms run along whole tile rows so the loops are contiguous.
struct WinogradPass {
    let input: UnsafePointer<Float>
    let images: Int, inChannels: Int, height: Int, width: Int, padTop: Int, padLeft: Int
    let transformedWeights: UnsafePointer<Float>
    let outChannels: Int, outHeight: Int, outWidth: Int
    let bf16Weights: UnsafePointer<UInt32>?
    let bf16Panels: UnsafePointer<UInt32>?
    /// fp32 U as row panels (`Winograd.panels`), or nil.
    let panels: UnsafePointer<Float>?
    let maxPooled: Bool
    /// `sharedCount` floats: the transformed input, then the products.
    let scratch: UnsafeMutablePointer<Float>
    let output: UnsafeMutablePointer<Float>

    var tilesH: Int { Winograd.tiles(outHeight) }
    var tilesW: Int { Winograd.tiles(outWidth) }
    /// Columns of each product: every tile of every image.
    var n: Int { tilesH * tilesW * images }
    var pairs: Int { Kernels.bf16PairCount(inChannels) }
    /// Columns of a row of bf16 pairs.
    var ldp: Int { Winograd.paddedColumns(n) }
    var sharedCount: Int {
        Winograd.sharedCount(inChannels: inChannels, outChannels: outChannels, n: n, bf16: bf16Weights != nil)
    }
    var temporaryCount: Int { Winograd.temporaryCount(outWidth: outWidth, n: n, bf16: bf16Weights != nil) }
    /// What the input transform splits over: input channels, or channel pairs for bf16.
    var inputUnits: Int { bf16Weights == nil ? inChannels : pairs }
    /// The 16 products `M[k] = U[k] · V[k]`, `[outC][n]` each.
    private var products: UnsafeMutablePointer<Float> {
        scratch + (bf16Weights == nil ? 16 * inChannels * n : 16 * pairs * ldp)
    }

    /// V[k][c][image * tiles + tile] = (Bᵀ d B)[k] for the input channels (or pairs) `units`,
    /// using `temporary` (`temporaryCount` floats) of the calling thread's own.
    func transformInput(_ units: Range<Int>, temporary: UnsafeMutablePointer<Float>) {
        let perImage = tilesH * tilesW, n = n, plane = height * width
        guard bf16Weights != nil else {
            let kStride = inChannels * n
            for image in 0..<images {
                for c in units {
                    galaxy_winograd_input_plane(
                        input + (image * inChannels + c) * plane, Int32(height), Int32(width), Int32(padTop), Int32(padLeft),
                        Int32(tilesH), Int32(tilesW), scratch + c * n + image * perImage, kStride, temporary)
                }
            }
            return
        }
        // bf16: pairs of channels go straight into the GEMM's packed B, rows padded with zeros.
        scratch.withMemoryRebound(to: UInt32.self, capacity: 16 * pairs * ldp) { vp in
            transformPairs(units, tileRows: 0..<tilesH, into: vp, ldv: ldp, temporary: temporary)
        }
    }

    /// bf16 V for the channel pairs `units` and the tile rows `tileRows` of every image: rows of
    /// `ldv` pairs, `pairs * ldv` apart from one k to the next, each zero-padded to 32 columns.
    private func transformPairs(
        _ units: Range<Int>, tileRows: Range<Int>, into v: UnsafeMutablePointer<UInt32>, ldv: Int,
        temporary: UnsafeMutablePointer<Float>
    ) {
        let plane = height * width, kStride = pairs * ldv
        let columns = tileRows.count * tilesW * images, padded = Winograd.paddedColumns(columns)
        // Tile row ty reads padded input rows 2ty ..< 2ty + 4: relative to the first tile row.
        let padTop = Int32(self.padTop - 2 * tileRows.lowerBound)
        let rows = temporary, planeTiles = temporary + 4 * (2 * tilesW + 2)
        for q in units {
            let row = v + q * ldv
            for k in 0..<16 where padded > columns { (row + k * kStride + columns).update(repeating: 0, count: padded - columns) }
            let first = input + 2 * q * plane
            galaxy_winograd_input_pairs(
                first, 2 * q + 1 < inChannels ? first + plane : nil, inChannels * plane, Int32(images), Int32(height), Int32(width),
                padTop, Int32(padLeft), Int32(tileRows.count), Int32(tilesW), row, kStride, rows, planeTiles)
        }
    }

    /// The products M[k] = U[k] · V[k], `[outC, inC] x [inC, tiles]`, for `ks` (within 0..<16).
    func multiply(_ ks: Range<Int>) {
        let n = n, m = products
        guard let bf16Weights else {
            let each = Winograd.panelCount(outChannels: outChannels, values: inChannels)
            for k in ks {
                let a = transformedWeights + k * outChannels * inChannels, b = UnsafePointer(scratch + k * inChannels * n)
                if Kernels.gemmBackend == .galaxy {
                    galaxy_sgemm_panels(
                        Int32(outChannels), Int32(n), Int32(inChannels), a, inChannels, panels.map { $0 + k * each }, b, n,
                        m + k * outChannels * n, n)
                } else {
                    Kernels.sgemm(
                        m: outChannels, n: n, k: inChannels, a: a, lda: inChannels, b: b, ldb: n, c: m + k * outChannels * n, ldc: n)
                }
            }
            return
        }
        scratch.withMemoryRebound(to: UInt32.self, capacity: 16 * pairs * ldp) { vp in
            multiplyPairs(ks, weights: bf16Weights, v: vp, ldv: ldp, columns: n, products: m, ldm: n)
        }
    }

    /// bf16 M[k] = U[k] · V[k] for `ks`, over `columns` columns of V (rows `ldv` apart) into M (rows
    /// `ldm` apart).
    private func multiplyPairs(
        _ ks: Range<Int>, weights: UnsafePointer<UInt32>, v: UnsafeMutablePointer<UInt32>, ldv: Int, columns: Int,
        products m: UnsafeMutablePointer<Float>, ldm: Int
    ) {
        let pairs = pairs, each = Winograd.panelCount(outChannels: outChannels, values: pairs)
        for k in ks {
            galaxy_sgemm_bf16_packed(
                Int32(outChannels), Int32(columns), Int32(inChannels), weights + k * outChannels * pairs, pairs,
                bf16Panels.map { $0 + k * each }, v + k * pairs * ldv, ldv, m + k * outChannels * ldm, ldm)
        }
    }

    /// Part `part` of one image split by tile rows (`split`), bf16: the input transform of its tile
    /// rows for every channel pair, the 16 products for their columns and the output transform (or
    /// max pool) of the output rows they cover, all in its own block of the shared buffers
    /// (`Winograd.tileRowSharedCount` floats).
    /// - Returns: the range of floats of each output plane this part wrote.
    func convolveTileRows(_ split: TileRowSplit, part: Int, temporary: UnsafeMutablePointer<Float>) -> Range<Int> {
        precondition(images == 1, "a team splits one image")
        guard let bf16Weights else { preconditionFailure("tile rows are split for bf16 products only") }
        let rows = split.rows(part)
        guard !rows.isEmpty else { return 0..<0 }
        let vRow = split.vRow(part), mRow = split.mRow(part)
        let block = scratch + split.blockStart(part)
        let products = block + 16 * pairs * vRow
        block.withMemoryRebound(to: UInt32.self, capacity: 16 * pairs * vRow) { vp in
            transformPairs(0..<pairs, tileRows: rows, into: vp, ldv: vRow, temporary: temporary)
            multiplyPairs(0..<16, weights: bf16Weights, v: vp, ldv: vRow, columns: split.count(part), products: products, ldm: mRow)
        }
        return transformOutput(0..<outChannels, tileRows: rows, products: products, ldm: mRow)
    }

    /// Y = Aᵀ m A for the output channels `channels`, one plane at a time (M[k] is contiguous
    /// along a tile row), or its 2x2 max pool.
    func transformOutput(_ channels: Range<Int>) {
        transformOutput(channels, tileRows: 0..<tilesH, products: products, ldm: n)
    }

    /// The output rows of tile rows `tileRows` of every image, from M with rows `ldm` apart whose
    /// column 0 is the first of those tile rows' tiles.
    /// - Returns: the range of floats of each output plane written.
    @discardableResult
    private func transformOutput(
        _ channels: Range<Int>, tileRows: Range<Int>, products m: UnsafeMutablePointer<Float>, ldm: Int
    ) -> Range<Int> {
        let perImage = tileRows.count * tilesW, mStride = outChannels * ldm
        if maxPooled {
            // Pooled row y is tile row y.
            let (ph, pw) = (outHeight / 2, outWidth / 2)
            let written = (tileRows.lowerBound * pw)..<(max(tileRows.lowerBound, min(tileRows.upperBound, ph)) * pw)
            for image in 0..<images {
                for o in channels where !written.isEmpty {
                    galaxy_winograd_output_max_pool_plane(
                        m + o * ldm + image * perImage, mStride, Int32(tilesW),
                        output + (image * outChannels + o) * ph * pw + written.lowerBound, Int32(written.count / pw), Int32(pw))
                }
            }
            return written
        }
        let written = (2 * tileRows.lowerBound * outWidth)..<(min(outHeight, 2 * tileRows.upperBound) * outWidth)
        for image in 0..<images {
            for o in channels {
                galaxy_winograd_output_plane(
                    m + o * ldm + image * perImage, mStride, Int32(tileRows.count), Int32(tilesW),
                    output + (image * outChannels + o) * outHeight * outWidth + written.lowerBound, Int32(written.count / outWidth),
                    Int32(outWidth))
            }
        }
        return written
    }
}
