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
        let width = Double(imageWidth), height = Double(imageHeight)
        for j in 0..<crop.height {
            for i in 0..<crop.width {
                let p = self.source(Double(crop.x + i) + 0.5, Double(crop.y + j) + 0.5)
                guard p.x >= 0, p.x < width, p.y >= 0, p.y < height else { continue }
                let fx = p.x - 0.5, fy = p.y - 0.5
                let xf = fx.rounded(.down), yf = fy.rounded(.down)
                let ax = Float(fx - xf), ay = Float(fy - yf)
                let xa = Int(xf), ya = Int(yf)
                let x0 = min(max(xa, bounds.x), bounds.x + bounds.width - 1) - bounds.x
                let x1 = min(max(xa + 1, bounds.x), bounds.x + bounds.width - 1) - bounds.x
                let y0 = min(max(ya, bounds.y), bounds.y + bounds.height - 1) - bounds.y
                let y1 = min(max(ya + 1, bounds.y), bounds.y + bounds.height - 1) - bounds.y
                let r0 = source + y0 * stride, r1 = source + y1 * stride
                let out = output + (j * crop.width + i) * 3
                for c in 0..<3 {
                    let top = Float(r0[x0 * 3 + c]) * (1 - ax) + Float(r0[x1 * 3 + c]) * ax
                    let bottom = Float(r1[x0 * 3 + c]) * (1 - ax) + Float(r1[x1 * 3 + c]) * ax
                    out[c] = UInt8(min(255, top * (1 - ay) + bottom * ay + 0.5))
                }
            }
        }
    }
}
