import Foundation

/// Rotation of the full frame about its centre, counterclockwise for positive degrees (as
/// Pillow's `Image.rotate`), keeping the frame: an output pixel centre (x, y) takes the bilinear
/// sample of the input at the inverse-rotated point; points outside the image are black.
struct Rotation {
    let cosine: Double
    let sine: Double
    let centerX: Double
    let centerY: Double

    /// nil for multiples of 360 degrees.
    init?(degrees: Double, width: Int, height: Int) {
        let normalized = degrees.truncatingRemainder(dividingBy: 360)
        guard normalized != 0, degrees.isFinite else { return nil }
        let radians = normalized * .pi / 180
        cosine = cos(radians)
        sine = sin(radians)
        centerX = Double(width) / 2
        centerY = Double(height) / 2
    }

    /// The input point that lands on output point (x, y), in continuous pixel coordinates.
    @inline(__always)
    func source(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        let dx = x - centerX
        let dy = y - centerY
        return (cosine * dx - sine * dy + centerX, sine * dx + cosine * dy + centerY)
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

    /// Fills `output` (packed RGB, `crop.width` x `crop.height`) with the rotated frame's pixels
    /// inside `crop`, sampling `source` (RGB rows `stride` bytes apart covering `bounds` of an
    /// image of `imageWidth` x `imageHeight`). Like Pillow, samples outside the image are black and the
    /// bilinear neighbours clamp at the image border.
    func render(
        crop: PixelRect, into output: UnsafeMutablePointer<UInt8>,
        from source: UnsafePointer<UInt8>?, stride: Int, bounds: PixelRect?, imageWidth: Int,
        imageHeight: Int
    ) {
        output.initialize(repeating: 0, count: crop.width * crop.height * 3)
        guard let source, let bounds else { return }
        let width = Float(imageWidth), height = Float(imageHeight)
        let lastX = bounds.width - 1, lastY = bounds.height - 1
        // Along an output row the source point moves by (cos, sin) per pixel.
        let stepX = Float(cosine), stepY = Float(sine)
        for j in 0..<crop.height {
            let start = self.source(Double(crop.x) + 0.5, Double(crop.y + j) + 0.5)
            var u = Float(start.x), v = Float(start.y)
            let row = output + j &* crop.width &* 3
            for i in 0..<crop.width {
                defer { u += stepX; v += stepY }
                guard u >= 0, u < width, v >= 0, v < height else { continue }
                // Region-local sample position; it is above -1, so truncation after +1 floors.
                let fx = u - 0.5 - Float(bounds.x), fy = v - 0.5 - Float(bounds.y)
                let xa = Int(fx + 1) &- 1, ya = Int(fy + 1) &- 1
                let ax = fx - Float(xa), ay = fy - Float(ya)
                // Neighbours clamp at the image border, as Pillow's do.
                let x0 = min(max(xa, 0), lastX), x1 = min(max(xa &+ 1, 0), lastX)
                let y0 = min(max(ya, 0), lastY), y1 = min(max(ya &+ 1, 0), lastY)
                let top = source + y0 &* stride, bottom = source + y1 &* stride
                let p00 = top + x0 &* 3, p01 = top + x1 &* 3
                let p10 = bottom + x0 &* 3, p11 = bottom + x1 &* 3
                let w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay)
                let w10 = (1 - ax) * ay, w11 = ax * ay
                let out = row + i &* 3
                out[0] = Self.clampedByte(w00 * Float(p00[0]) + w01 * Float(p01[0]) + w10 * Float(p10[0]) + w11 * Float(p11[0]))
                out[1] = Self.clampedByte(w00 * Float(p00[1]) + w01 * Float(p01[1]) + w10 * Float(p10[1]) + w11 * Float(p11[1]))
                out[2] = Self.clampedByte(w00 * Float(p00[2]) + w01 * Float(p01[2]) + w10 * Float(p10[2]) + w11 * Float(p11[2]))
            }
        }
    }

    @inline(__always)
    private static func clampedByte(_ value: Float) -> UInt8 {
        UInt8(max(0, min(255, value + 0.5)))
    }
}
