import Foundation

/// A `FrameTransform` as a map from output pixels back into the frame: an output pixel centre
/// (x, y) takes the bilinear sample of the input at `source(x, y)`. Rotations keep Pillow's
/// convention (`Image.rotate`, counterclockwise for positive degrees, about the frame centre).
struct AffineWarp {
    /// The inverse map's linear part: source offset = (a, b; c, d) * (output offset - shift).
    let a: Double
    let b: Double
    let c: Double
    let d: Double
    let shiftX: Double
    let shiftY: Double
    let centerX: Double
    let centerY: Double
    /// 1, 2 or 3 for exact quarter turns whose pixel centres land on pixel centres (width and
    /// height of the same parity, nothing else in the transform): those are plain pixel moves,
    /// as in Pillow's transposes.
    let quarterTurns: Int?
    private let width: Int
    private let height: Int

    /// nil for the identity (which is the plain crop).
    init?(_ transform: FrameTransform, width: Int, height: Int) {
        precondition(transform.problem == nil, "FrameTransform: \(transform.problem ?? "")")
        guard !transform.isIdentity else { return nil }
        var normalized = transform.rotationDegrees.truncatingRemainder(dividingBy: 360)
        if normalized < 0 { normalized += 360 }
        let radians = normalized * .pi / 180
        let cosine = normalized == 0 ? 1 : cos(radians), sine = normalized == 0 ? 0 : sin(radians)
        let mirror: Double = transform.mirrored ? -1 : 1
        let zoom = 1 / transform.scale
        a = mirror * cosine * zoom
        b = -mirror * sine * zoom
        c = sine * zoom
        d = cosine * zoom
        shiftX = transform.shiftX
        shiftY = transform.shiftY
        centerX = Double(width) / 2
        centerY = Double(height) / 2
        self.width = width
        self.height = height
        let turns = normalized / 90
        let pureRotation = transform.scale == 1 && !transform.mirrored && shiftX == 0 && shiftY == 0
        quarterTurns =
            pureRotation && turns == turns.rounded() && (width - height) % 2 == 0 ? Int(turns) : nil
    }

    /// A rotation only (the scorer's test-time rotations); nil for multiples of 360 degrees.
    init?(degrees: Double, width: Int, height: Int) {
        guard degrees.isFinite else { return nil }
        self.init(FrameTransform(rotationDegrees: degrees), width: width, height: height)
    }

    /// The input point that lands on output point (x, y), in continuous pixel coordinates.
    @inline(__always)
    func source(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        let dx = x - centerX - shiftX
        let dy = y - centerY - shiftY
        return (a * dx + b * dy + centerX, c * dx + d * dy + centerY)
    }

    /// The input pixels (clipped to the image) that bilinear samples of `rect` can touch.
    func sourceBounds(of rect: PixelRect, imageWidth: Int, imageHeight: Int) -> PixelRect? {
        let xs = [Double(rect.x), Double(rect.x + rect.width)]
        let ys = [Double(rect.y), Double(rect.y + rect.height)]
        var minX = Double.infinity, maxX = -Double.infinity
        var minY = Double.infinity, maxY = -Double.infinity
        for x in xs {
            for y in ys {
                let p = source(x, y)
                minX = min(minX, p.x); maxX = max(maxX, p.x)
                minY = min(minY, p.y); maxY = max(maxY, p.y)
            }
        }
        let x0 = max(0, Int((minX - 1.5).rounded(.down)))
        let y0 = max(0, Int((minY - 1.5).rounded(.down)))
        let x1 = min(imageWidth - 1, Int((maxX + 1.5).rounded(.up)))
        let y1 = min(imageHeight - 1, Int((maxY + 1.5).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return nil }
        return PixelRect(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
    }

    /// Fills `output` (packed RGB, `crop.width` x `crop.height`) with the warped frame's pixels
    /// inside `crop`, sampling `source` (RGB rows `stride` bytes apart covering `bounds` of an
    /// image of `imageWidth` x `imageHeight`). Samples outside the image are black or the nearest
    /// edge pixel (`edges`); the bilinear neighbours clamp at the image border, as Pillow's do.
    func render(
        crop: PixelRect, into output: UnsafeMutablePointer<UInt8>,
        from source: UnsafePointer<UInt8>?, stride: Int, bounds: PixelRect?, imageWidth: Int,
        imageHeight: Int, edges: WarpEdges = .black
    ) {
        output.initialize(repeating: 0, count: crop.width * crop.height * 3)
        guard let source, let bounds else { return }
        if let quarterTurns {
            renderQuarterTurns(
                quarterTurns, crop: crop, into: output, from: source, stride: stride, bounds: bounds)
            return
        }
        // Fixed point: positions with 16 fractional bits, bilinear weights with 8.
        let limitX = imageWidth << 16, limitY = imageHeight << 16
        let originX = (bounds.x << 16) + (1 << 15), originY = (bounds.y << 16) + (1 << 15)
        let lastX = bounds.width - 1, lastY = bounds.height - 1
        let blackOutside = edges == .black
        // Along an output row the source point moves by (a, c) per pixel.
        let stepX = Int((a * 65536).rounded()), stepY = Int((c * 65536).rounded())
        for j in 0..<crop.height {
            let start = self.source(Double(crop.x) + 0.5, Double(crop.y + j) + 0.5)
            var u = Int((start.x * 65536).rounded()), v = Int((start.y * 65536).rounded())
            let row = output + j &* crop.width &* 3
            for i in 0..<crop.width {
                defer { u &+= stepX; v &+= stepY }
                // Outside the image stays black unless edges are replicated, where the clamped
                // neighbours below give the nearest edge pixel.
                if blackOutside { guard u >= 0, u < limitX, v >= 0, v < limitY else { continue } }
                let fx = u &- originX, fy = v &- originY
                let xa = fx >> 16, ya = fy >> 16  // arithmetic shifts floor
                let ax = (fx & 0xFFFF) >> 8, ay = (fy & 0xFFFF) >> 8
                // Neighbours clamp at the image border, as Pillow's do.
                let x0 = min(max(xa, 0), lastX), x1 = min(max(xa &+ 1, 0), lastX)
                let y0 = min(max(ya, 0), lastY), y1 = min(max(ya &+ 1, 0), lastY)
                let top = source + y0 &* stride, bottom = source + y1 &* stride
                let p00 = top + x0 &* 3, p01 = top + x1 &* 3
                let p10 = bottom + x0 &* 3, p11 = bottom + x1 &* 3
                let bx = 256 &- ax, by = 256 &- ay
                let out = row + i &* 3
                for c in 0..<3 {
                    let upper = Int(p00[c]) &* bx &+ Int(p01[c]) &* ax
                    let lower = Int(p10[c]) &* bx &+ Int(p11[c]) &* ax
                    out[c] = UInt8(truncatingIfNeeded: (upper &* by &+ lower &* ay &+ (1 << 15)) >> 16)
                }
            }
        }
    }

    /// Exact quarter turns: output pixel (X, Y) of the frame copies input pixel (sx, sy).
    private func renderQuarterTurns(
        _ turns: Int, crop: PixelRect, into output: UnsafeMutablePointer<UInt8>,
        from source: UnsafePointer<UInt8>, stride: Int, bounds: PixelRect
    ) {
        let half = (width + height) / 2, shift = (height - width) / 2
        for j in 0..<crop.height {
            let y = crop.y + j
            for i in 0..<crop.width {
                let x = crop.x + i
                let (sx, sy): (Int, Int)
                switch turns {
                case 1: (sx, sy) = (half - y - 1, x + shift)
                case 2: (sx, sy) = (width - 1 - x, height - 1 - y)
                default: (sx, sy) = (y - shift, half - x - 1)
                }
                let lx = sx - bounds.x, ly = sy - bounds.y
                guard lx >= 0, lx < bounds.width, ly >= 0, ly < bounds.height else { continue }
                let from = source + ly * stride + lx * 3
                let to = output + (j * crop.width + i) * 3
                to[0] = from[0]
                to[1] = from[1]
                to[2] = from[2]
            }
        }
    }
}
