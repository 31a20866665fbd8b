/// The one preprocessing function shared by training, scoring and the web API:
/// JPEG -> 8-bit RGB (decoding only the rows and columns the crop needs) -> optional rotation of
/// the full frame about its centre -> crop `round(f*W)` / `round(f*H)` from each border ->
/// box-average resize to `size x size` (as Pillow's `Image.BOX`) -> float32 in [0,1], NCHW, RGB -> optional
/// `(x - mean) / std`.
///
/// Rotation happens before the crop, on the full frame, so the rotated crop never shows empty
/// corners while the image around the crop has content (the central 204x204 of a 424x424 image
/// rotated by 45 degrees still lies inside the frame).
///
/// Not thread-safe: one per thread (it owns a libjpeg decompressor and scratch buffers).
public final class Preprocessor {
    public let options: PreprocessOptions
    private let decoder = RegionDecoder()
    private let region = ScratchBuffer<UInt8>()
    let rotated = ScratchBuffer<UInt8>()
    private let columnSums = ScratchBuffer<UInt32>()
    private var weightsByLength: [Int: AreaWeights] = [:]
    private let channelScale: (Float, Float, Float)
    private let channelOffset: (Float, Float, Float)
    /// `x / std` and `-mean / std` per channel, for tensors already in [0,1].
    let unitScale: (Float, Float, Float)
    let unitOffset: (Float, Float, Float)

    /// - Parameter options: must be valid (`options.problem == nil`); invalid options are a
    ///   programming error and stop the process.
    public init(options: PreprocessOptions = PreprocessOptions()) {
        if let problem = options.problem { preconditionFailure("PreprocessOptions: \(problem)") }
        self.options = options
        if let mean = options.mean, let std = options.std {
            channelScale = (1 / (255 * std[0]), 1 / (255 * std[1]), 1 / (255 * std[2]))
            channelOffset = (-mean[0] / std[0], -mean[1] / std[1], -mean[2] / std[2])
            unitScale = (1 / std[0], 1 / std[1], 1 / std[2])
        } else {
            channelScale = (1 / 255, 1 / 255, 1 / 255)
            channelOffset = (0, 0, 0)
            unitScale = (1, 1, 1)
        }
        unitOffset = channelOffset
    }

    /// Preprocesses one JPEG into `output`.
    /// - Parameters:
    ///   - jpeg: the file's bytes.
    ///   - rotationDegrees: counterclockwise rotation of the full frame before the crop.
    ///   - output: room for exactly `3 * size * size` floats; receives the R, G and B planes.
    /// - Throws: `ImageError` for empty, non-JPEG, truncated, unsupported, oversized or damaged
    ///   input, or an image too small for the crop.
    public func preprocess(
        jpeg: UnsafeRawBufferPointer, rotationDegrees: Double = 0,
        into output: UnsafeMutableBufferPointer<Float>
    ) throws(ImageError) {
        precondition(
            output.count == options.floatCount,
            "preprocess output needs 3*\(options.size)*\(options.size) = \(options.floatCount) floats, got \(output.count)"
        )
        let crop = try decodeCrop(jpeg, rotationDegrees: rotationDegrees)
        resize(crop, into: output.baseAddress!)
    }

    /// Preprocesses one JPEG; returns `3 * size * size` floats, NCHW.
    public func preprocess(jpeg: [UInt8], rotationDegrees: Double = 0) throws(ImageError) -> [Float] {
        var output = [Float](repeating: 0, count: options.floatCount)
        try jpeg.withImageBytes { (bytes) throws(ImageError) in
            try output.withUnsafeMutableBufferPointer { (out) throws(ImageError) in
                try preprocess(jpeg: bytes, rotationDegrees: rotationDegrees, into: out)
            }
        }
        return output
    }

    /// Preprocesses one JPEG at several rotations (test-time or training augmentation),
    /// decoding it once: the same values as one `preprocess` call per rotation, up to chroma
    /// upsampling at the edge of the decoded rectangle (a level or two on a few pixels).
    /// - Parameters:
    ///   - output: room for exactly `rotations.count * 3 * size * size` floats; rotation r's
    ///     tensor starts at `r * 3 * size * size`.
    /// - Throws: `ImageError`, as `preprocess(jpeg:rotationDegrees:into:)`.
    public func preprocess(
        jpeg: UnsafeRawBufferPointer, rotations: [Double], into output: UnsafeMutableBufferPointer<Float>
    ) throws(ImageError) {
        precondition(
            output.count == rotations.count * options.floatCount,
            "preprocess output needs \(rotations.count) x \(options.floatCount) floats, got \(output.count)")
        guard !rotations.isEmpty else { return }
        let frame = try decodeFrame(jpeg, rotations: rotations)
        for index in rotations.indices {
            resize(view(frame, index), into: output.baseAddress! + index * options.floatCount)
        }
    }

    /// Preprocesses one JPEG at several rotations, decoding it once; returns
    /// `rotations.count * 3 * size * size` floats, one NCHW tensor per rotation.
    public func preprocess(jpeg: [UInt8], rotations: [Double]) throws(ImageError) -> [Float] {
        var output = [Float](repeating: 0, count: rotations.count * options.floatCount)
        try jpeg.withImageBytes { (bytes) throws(ImageError) in
            try output.withUnsafeMutableBufferPointer { (out) throws(ImageError) in
                try preprocess(jpeg: bytes, rotations: rotations, into: out)
            }
        }
        return output
    }

    /// What the model sees, as an 8-bit `size x size` image (before `mean`/`std`), for
    /// `input.png` files and inspection.
    public func preprocessedRGB(jpeg: [UInt8], rotationDegrees: Double = 0) throws(ImageError) -> RGBImage {
        try preprocessedRGB(jpeg: jpeg, rotations: [rotationDegrees])[0]
    }

    /// `preprocessedRGB` at several rotations, decoding the JPEG once.
    public func preprocessedRGB(jpeg: [UInt8], rotations: [Double]) throws(ImageError) -> [RGBImage] {
        let size = options.size
        let plane = size * size
        var planes = [Float](repeating: 0, count: options.floatCount)
        return try jpeg.withImageBytes { (bytes) throws(ImageError) -> [RGBImage] in
            let frame = try decodeFrame(bytes, rotations: rotations)
            return rotations.indices.map { index in
                planes.withUnsafeMutableBufferPointer { out in
                    resize(view(frame, index), into: out.baseAddress!, normalize: false)
                }
                var pixels = [UInt8](repeating: 0, count: plane * 3)
                for i in 0..<plane {
                    for c in 0..<3 {
                        pixels[i * 3 + c] = UInt8(max(0, min(255, (planes[c * plane + i] * 255).rounded())))
                    }
                }
                return RGBImage(width: size, height: size, pixels: pixels)
            }
        }
    }

    /// The rotated crop before resizing, at the decode scale, as 8-bit RGB.
    public func croppedRGB(jpeg: [UInt8], rotationDegrees: Double = 0) throws(ImageError) -> RGBImage {
        try jpeg.withImageBytes { (bytes) throws(ImageError) -> RGBImage in
            let crop = try decodeCrop(bytes, rotationDegrees: rotationDegrees)
            var pixels = [UInt8]()
            pixels.reserveCapacity(crop.width * crop.height * 3)
            for y in 0..<crop.height {
                pixels += UnsafeBufferPointer(start: crop.pixels + y * crop.stride, count: crop.width * 3)
            }
            return RGBImage(width: crop.width, height: crop.height, pixels: pixels)
        }
    }

    /// Packed RGB rows owned by this preprocessor, valid until the next call.
    struct Crop {
        var pixels: UnsafePointer<UInt8>
        var width: Int
        var height: Int
        /// Bytes from one row to the next.
        var stride: Int
    }

    /// The decoded pixels that every requested rotation needs, and the geometry to cut each
    /// rotation's crop from them.
    private struct Frame {
        var width: Int
        var height: Int
        var crop: PixelRect
        var rotations: [AffineWarp?]
        /// RGB rows covering `bounds` (nil when no requested view touches the image).
        var region: Crop?
        var bounds: PixelRect?
    }

    /// Decodes the crop (rotated when asked) into RGB rows owned by this preprocessor.
    private func decodeCrop(_ jpeg: UnsafeRawBufferPointer, rotationDegrees: Double) throws(ImageError)
        -> Crop
    {
        view(try decodeFrame(jpeg, rotations: [rotationDegrees]), 0)
    }

    /// Reads the header, checks the limits and decodes, once, the smallest rectangle that holds
    /// the crop of every rotation in `rotations`.
    private func decodeFrame(_ jpeg: UnsafeRawBufferPointer, rotations: [Double]) throws(ImageError) -> Frame
    {
        let geometry = try readGeometry(jpeg)
        let (width, height, crop) = (geometry.width, geometry.height, geometry.crop)
        let turns = rotations.map { AffineWarp(degrees: $0, width: width, height: height) }
        var bounds: PixelRect? = nil
        for rotation in turns {
            let needed =
                rotation == nil
                ? crop : rotation!.sourceBounds(of: crop, imageWidth: width, imageHeight: height)
            if let needed { bounds = bounds.map { $0.union(needed) } ?? needed }
        }
        guard let needed = bounds else {
            decoder.abort()
            return Frame(width: width, height: height, crop: crop, rotations: turns, region: nil, bounds: nil)
        }
        // A few more pixels around what is needed give chroma upsampling the neighbours it sees
        // in a full decode, so the crop equals the full frame's crop exactly.
        let rect = needed.expanded(by: RegionDecoder.contextPixels, width: width, height: height)
        let region = try decodeRegion(jpeg, info: geometry.info, rect: rect)
        return Frame(width: width, height: height, crop: crop, rotations: turns, region: region, bounds: rect)
    }

    /// The header's facts at the decode scale, once the limits are checked.
    struct Geometry {
        var info: JPEGInfo
        /// The decoded frame's size.
        var width: Int
        var height: Int
        /// The crop in frame coordinates.
        var crop: PixelRect
    }

    /// Reads the header and checks the pixel limit and that something is left after the crop.
    /// On success the decoder waits for `decodeRegion`; on failure it is reset.
    func readGeometry(_ jpeg: UnsafeRawBufferPointer) throws(ImageError) -> Geometry {
        try JPEGValidation.checkMarkers(jpeg)
        let info = try decoder.readHeader(jpeg)
        do {
            try JPEGValidation.checkPixels(info, maxPixels: options.maxPixels)
        } catch {
            decoder.abort()
            throw error
        }
        let scale = options.decodeScale
        let width = scale.scaled(info.width)
        let height = scale.scaled(info.height)
        guard let crop = cropRect(width: width, height: height) else {
            decoder.abort()
            throw ImageError(
                .unsupported,
                "a \(width)x\(height) image has nothing left after cropping \(options.cropFraction) from each border"
            )
        }
        return Geometry(info: info, width: width, height: height, crop: crop)
    }

    /// The crop of a `width x height` frame, or nil when the margins leave nothing.
    func cropRect(width: Int, height: Int) -> PixelRect? {
        let left = options.cropMargin(width)
        let top = options.cropMargin(height)
        let crop = PixelRect(x: left, y: top, width: width - 2 * left, height: height - 2 * top)
        return crop.width > 0 && crop.height > 0 ? crop : nil
    }

    /// Decodes `rect` of the frame whose header `readGeometry` read into RGB rows owned by this
    /// preprocessor (valid until the next decode).
    func decodeRegion(_ jpeg: UnsafeRawBufferPointer, info: JPEGInfo, rect: PixelRect) throws(ImageError)
        -> Crop
    {
        let channels = info.colorModel == .cmyk ? 4 : 3
        // A stream that does not end with its end marker is read to the end so that truncation
        // anywhere is reported; complete ones stop after the last row needed.
        let readToEnd = !(jpeg.count >= 2 && jpeg[jpeg.count - 2] == 0xFF && jpeg[jpeg.count - 1] == 0xD9)
        let stride = (rect.width + RegionDecoder.rowSlack) * channels
        let buffer = region.reserve(stride * rect.height)
        let shift = try decoder.decode(
            scale: options.decodeScale, rect: rect, readToEnd: readToEnd, into: buffer, stride: stride)
        if channels == 4 {
            for y in 0..<rect.height {
                CMYK.toRGBInPlace(
                    from: buffer + y * stride + shift * 4, to: buffer + y * stride, pixelCount: rect.width)
            }
            return Crop(pixels: UnsafePointer(buffer), width: rect.width, height: rect.height, stride: stride)
        }
        return Crop(
            pixels: UnsafePointer(buffer + shift * 3), width: rect.width, height: rect.height, stride: stride)
    }

    /// The crop of rotation `index` of `frame`: a view into the decoded rows, or rendered into
    /// the rotation buffer (valid until the next call).
    private func view(_ frame: Frame, _ index: Int) -> Crop {
        let crop = frame.crop
        guard let rotation = frame.rotations[index] else {
            let region = frame.region!, bounds = frame.bounds!
            let start = region.pixels + (crop.y - bounds.y) * region.stride + (crop.x - bounds.x) * 3
            return Crop(pixels: start, width: crop.width, height: crop.height, stride: region.stride)
        }
        let output = rotated.reserve(crop.width * crop.height * 3)
        rotation.render(
            crop: crop, into: output, from: frame.region?.pixels, stride: frame.region?.stride ?? 0,
            bounds: frame.bounds, imageWidth: frame.width, imageHeight: frame.height)
        return Crop(
            pixels: UnsafePointer(output), width: crop.width, height: crop.height, stride: crop.width * 3)
    }

    private func weights(_ length: Int) -> AreaWeights {
        if let cached = weightsByLength[length] { return cached }
        let computed = AreaWeights(input: length, output: options.size)
        if weightsByLength.count > 64 { weightsByLength.removeAll() }
        weightsByLength[length] = computed
        return computed
    }

    /// Box averaging of RGB rows into R, G and B planes of `size x size`: for each output row,
    /// the input rows it covers are summed per column (exact integers, a loop the compiler
    /// vectorises), then each output pixel sums its columns and scales once.
    func resize(_ crop: Crop, into output: UnsafeMutablePointer<Float>, normalize: Bool = true) {
        let size = options.size
        let horizontal = weights(crop.width)
        let vertical = weights(crop.height)
        let lineCount = crop.width &* 3
        let sums = columnSums.reserve(lineCount)
        let scale = normalize ? channelScale : (1 / 255, 1 / 255, 1 / 255)
        let offset = normalize ? channelOffset : (0, 0, 0)
        let plane = size &* size
        horizontal.starts.withUnsafeBufferPointer { xStarts in
            horizontal.counts.withUnsafeBufferPointer { xCounts in
                horizontal.reciprocals.withUnsafeBufferPointer { xReciprocals in
                    for o in 0..<size {
                        let first = crop.pixels + vertical.starts[o] &* crop.stride
                        for k in 0..<lineCount { sums[k] = UInt32(first[k]) }
                        for t in 1..<max(1, vertical.counts[o]) {
                            let row = first + t &* crop.stride
                            for k in 0..<lineCount { sums[k] &+= UInt32(row[k]) }
                        }
                        let rowScale = vertical.reciprocals[o]
                        let base = o &* size
                        for x in 0..<size {
                            var r: UInt64 = 0, g: UInt64 = 0, b: UInt64 = 0
                            var p = xStarts[x] &* 3
                            for _ in 0..<xCounts[x] {
                                r &+= UInt64(sums[p])
                                g &+= UInt64(sums[p &+ 1])
                                b &+= UInt64(sums[p &+ 2])
                                p &+= 3
                            }
                            let w = rowScale * xReciprocals[x]
                            output[base &+ x] = Float(r) * (w * scale.0) + offset.0
                            output[plane &+ base &+ x] = Float(g) * (w * scale.1) + offset.1
                            output[2 &* plane &+ base &+ x] = Float(b) * (w * scale.2) + offset.2
                        }
                    }
                }
            }
        }
    }
}
