/// Preprocessing from a frame decoded once and kept, for training-time augmentation: the
/// same crop, box resize and scaling as `preprocess(jpeg:)`, seen through any `FrameTransform`.
extension Preprocessor {
    /// The full frame at the decode scale, exactly as `preprocess(jpeg:)` decodes the pixels it
    /// uses (same decoder, DCT scale, colour conversion and chroma upsampling).
    /// - Throws: `ImageError`, as `preprocess(jpeg:)`, including an image too small for the crop.
    public func decodedFrame(jpeg: UnsafeRawBufferPointer) throws(ImageError) -> RGBImage {
        let geometry = try readGeometry(jpeg)
        let whole = PixelRect(x: 0, y: 0, width: geometry.width, height: geometry.height)
        let rows = try decodeRegion(jpeg, info: geometry.info, rect: whole)
        var pixels = [UInt8](repeating: 0, count: whole.width * whole.height * 3)
        pixels.withUnsafeMutableBufferPointer { out in
            for y in 0..<whole.height {
                (out.baseAddress! + y * whole.width * 3).update(
                    from: rows.pixels + y * rows.stride, count: whole.width * 3)
            }
        }
        return RGBImage(width: whole.width, height: whole.height, pixels: pixels)
    }

    /// `decodedFrame(jpeg:)` for an array of bytes.
    public func decodedFrame(jpeg: [UInt8]) throws(ImageError) -> RGBImage {
        try jpeg.withImageBytes { (bytes) throws(ImageError) -> RGBImage in try decodedFrame(jpeg: bytes) }
    }

    /// Preprocesses a frame from `decodedFrame(jpeg:)` seen through `transform`: warp (bilinear,
    /// only the crop's pixels), crop, box resize, scaling and, when `normalized`, mean/std.
    /// With `.identity` the output equals `preprocess(jpeg:)` of the frame's JPEG bit for bit.
    /// - Parameters:
    ///   - frame: a full frame at this preprocessor's decode scale; one too small for the crop is
    ///     a programming error (`decodedFrame` refuses those).
    ///   - edges: what the warp shows outside the frame.
    ///   - normalized: false leaves the values in [0,1] (for steps in that domain; then
    ///     `normalize(_:)`).
    ///   - output: room for exactly `3 * size * size` floats; receives the R, G and B planes.
    public func preprocess(
        frame: RGBImage, transform: FrameTransform = .identity, edges: WarpEdges = .replicate,
        normalized: Bool = true, into output: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(
            output.count == options.floatCount,
            "preprocess output needs 3*\(options.size)*\(options.size) = \(options.floatCount) floats, got \(output.count)"
        )
        guard let crop = cropRect(width: frame.width, height: frame.height) else {
            preconditionFailure(
                "a \(frame.width)x\(frame.height) frame has nothing left after cropping \(options.cropFraction)")
        }
        frame.pixels.withUnsafeBufferPointer { pixels in
            let stride = frame.width * 3
            let view: Crop
            if let warp = AffineWarp(transform, width: frame.width, height: frame.height) {
                let target = rotated.reserve(crop.width * crop.height * 3)
                warp.render(
                    crop: crop, into: target, from: pixels.baseAddress!, stride: stride,
                    bounds: PixelRect(x: 0, y: 0, width: frame.width, height: frame.height),
                    imageWidth: frame.width, imageHeight: frame.height, edges: edges)
                view = Crop(
                    pixels: UnsafePointer(target), width: crop.width, height: crop.height,
                    stride: crop.width * 3)
            } else {
                view = Crop(
                    pixels: pixels.baseAddress! + crop.y * stride + crop.x * 3, width: crop.width,
                    height: crop.height, stride: stride)
            }
            resize(view, into: output.baseAddress!, normalize: normalized)
        }
    }

    /// Applies the options' `(x - mean) / std` to a tensor of [0,1] values in place (nothing
    /// without mean and std): the last step of `preprocess(frame:normalized: false)` output.
    public func normalize(_ tensor: UnsafeMutableBufferPointer<Float>) {
        precondition(tensor.count == options.floatCount, "normalize needs \(options.floatCount) floats")
        guard options.mean != nil else { return }
        let plane = options.size * options.size
        func apply(_ channel: Int, _ scale: Float, _ offset: Float) {
            for i in (channel * plane)..<((channel + 1) * plane) { tensor[i] = tensor[i] * scale + offset }
        }
        apply(0, unitScale.0, unitOffset.0)
        apply(1, unitScale.1, unitOffset.1)
        apply(2, unitScale.2, unitOffset.2)
    }
}
