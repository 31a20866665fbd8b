import GalaxyImage

/// Simple photometry on rendered frames, measured around the frame centre after subtracting the
/// sky (the median of the frame border).
struct ImageMeasures {
    let size: Int
    let light: [Float]
    let red: [Float]
    let blue: [Float]

    init(_ image: RGBImage) {
        size = image.width
        var border: [Float] = []
        let n = image.width * image.height
        var l = [Float](repeating: 0, count: n)
        var r = l
        var b = l
        for i in 0..<n {
            r[i] = Float(image.pixels[3 * i])
            b[i] = Float(image.pixels[3 * i + 2])
            l[i] = (r[i] + Float(image.pixels[3 * i + 1]) + b[i]) / 3
        }
        for y in 0..<image.height {
            for x in 0..<image.width where x < 4 || y < 4 || x >= image.width - 4 || y >= image.height - 4 {
                border.append(l[y * image.width + x])
            }
        }
        border.sort()
        let sky = border[border.count / 2]
        light = l.map { max(0, $0 - sky) }
        red = r
        blue = b
    }

    private func forEachWithin(_ fraction: Float, _ body: (Int, Float, Float) -> Void) {
        let c = Float(size) / 2
        let limit = fraction * Float(size)
        for y in 0..<size {
            for x in 0..<size {
                let dx = Float(x) + 0.5 - c
                let dy = Float(y) + 0.5 - c
                if dx * dx + dy * dy <= limit * limit { body(y * size + x, dx, dy) }
            }
        }
    }

    /// Sky-subtracted light within `fraction * size` of the centre.
    func flux(within fraction: Float) -> Float {
        var total: Float = 0
        forEachWithin(fraction) { i, _, _ in total += light[i] }
        return total
    }

    /// Light within 6% of the frame size over light within 25%: high for concentrated profiles.
    var concentration: Float { flux(within: 0.06) / max(flux(within: 0.25), 1) }

    /// Mean sky-subtracted brightness (0...255) within 10% of the frame size.
    var centralBrightness: Float {
        var total: Float = 0
        var count: Float = 0
        forEachWithin(0.1) { i, _, _ in
            total += light[i]
            count += 1
        }
        return total / count
    }

    /// Minor over major axis from the second moments of the pixels brighter than a quarter of the
    /// brightest central pixel, within 30% of the frame size.
    var axisRatio: Float {
        var peak: Float = 0
        forEachWithin(0.05) { i, _, _ in peak = max(peak, light[i]) }
        let threshold = peak / 4
        var sxx: Float = 0, syy: Float = 0, sxy: Float = 0, w: Float = 0
        forEachWithin(0.3) { i, dx, dy in
            guard light[i] > threshold else { return }
            sxx += dx * dx
            syy += dy * dy
            sxy += dx * dy
            w += 1
        }
        guard w > 3 else { return 1 }
        sxx /= w
        syy /= w
        sxy /= w
        let mean = (sxx + syy) / 2
        let spread = (((sxx - syy) / 2) * ((sxx - syy) / 2) + sxy * sxy).squareRoot()
        return ((mean - spread) / max(mean + spread, 1e-6)).squareRoot()
    }

    /// (red - blue) / light over the central 8%: positive for yellow-red cores.
    var centralColour: Float {
        var rb: Float = 0
        var total: Float = 0
        forEachWithin(0.08) { i, _, _ in
            rb += red[i] - blue[i]
            total += light[i] + 1
        }
        return rb / total
    }
}
