/// Linear flux per pixel before noise, stretch and quantisation, in three planar Float channels.
///
/// Components add their light into a rectangle around themselves only, so a galaxy that covers a
/// quarter of the frame costs a quarter of the frame.
struct FloatCanvas {
    let width: Int
    let height: Int
    var red: [Float]
    var green: [Float]
    var blue: [Float]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        red = [Float](repeating: 0, count: width * height)
        green = red
        blue = red
    }

    /// A pixel rectangle, half-open, already clipped to the canvas.
    struct Box {
        var x0: Int, y0: Int, x1: Int, y1: Int
        var isEmpty: Bool { x0 >= x1 || y0 >= y1 }
    }

    /// The part of the square of half-side `radius` around `(cx, cy)` that lies on the canvas.
    func box(cx: Float, cy: Float, radius: Float) -> Box {
        Box(
            x0: max(0, Int((cx - radius).rounded(.down))),
            y0: max(0, Int((cy - radius).rounded(.down))),
            x1: min(width, Int((cx + radius).rounded(.up)) + 1),
            y1: min(height, Int((cy + radius).rounded(.up)) + 1))
    }

    var fullBox: Box { Box(x0: 0, y0: 0, x1: width, y1: height) }

    /// Adds `profile` over `box`; the profile sees pixel-centre offsets from `(cx, cy)`.
    mutating func add<P: SurfaceProfile>(_ profile: P, cx: Float, cy: Float, box: Box) {
        if box.isEmpty { return }
        let w = width
        red.withUnsafeMutableBufferPointer { r in
            green.withUnsafeMutableBufferPointer { g in
                blue.withUnsafeMutableBufferPointer { b in
                    for y in box.y0..<box.y1 {
                        let dy = Float(y) + 0.5 - cy
                        let row = y &* w
                        for x in box.x0..<box.x1 {
                            let f = profile.flux(Float(x) + 0.5 - cx, dy)
                            let i = row &+ x
                            r[i] += f.x
                            g[i] += f.y
                            b[i] += f.z
                        }
                    }
                }
            }
        }
    }

    /// Multiplies each channel in `box` by a profile's transmission (dust lanes).
    mutating func attenuate<P: SurfaceProfile>(_ profile: P, cx: Float, cy: Float, box: Box) {
        if box.isEmpty { return }
        let w = width
        red.withUnsafeMutableBufferPointer { r in
            green.withUnsafeMutableBufferPointer { g in
                blue.withUnsafeMutableBufferPointer { b in
                    for y in box.y0..<box.y1 {
                        let dy = Float(y) + 0.5 - cy
                        let row = y &* w
                        for x in box.x0..<box.x1 {
                            let t = profile.flux(Float(x) + 0.5 - cx, dy)
                            let i = row &+ x
                            r[i] *= t.x
                            g[i] *= t.y
                            b[i] *= t.z
                        }
                    }
                }
            }
        }
    }

    /// Gaussian blur (the point-spread function) inside `box`, separable, edges clamped to the box.
    mutating func blur(sigma: Float, box: Box) {
        if box.isEmpty || sigma < 0.3 { return }
        if sigma > 2 {
            // Three box filters approximate the Gaussian at a cost independent of its width.
            let widths = Self.boxWidths(sigma: sigma)
            let bw = box.x1 - box.x0
            var line = [Float](repeating: 0, count: max(bw, box.y1 - box.y0))
            var scratch = [Float](repeating: 0, count: bw * (box.y1 - box.y0))
            var sums = [Float](repeating: 0, count: bw)
            Self.boxBlurPlane(
                &red, width: width, box: box, widths: widths, line: &line, scratch: &scratch, sums: &sums)
            Self.boxBlurPlane(
                &green, width: width, box: box, widths: widths, line: &line, scratch: &scratch, sums: &sums)
            Self.boxBlurPlane(
                &blue, width: width, box: box, widths: widths, line: &line, scratch: &scratch, sums: &sums)
            return
        }
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var kernel = [Float](repeating: 0, count: 2 * radius + 1)
        var sum: Float = 0
        for k in -radius...radius {
            let v = _expf(-Float(k * k) / (2 * sigma * sigma))
            kernel[k + radius] = v
            sum += v
        }
        for k in kernel.indices { kernel[k] /= sum }
        let bw = box.x1 - box.x0
        let bh = box.y1 - box.y0
        var scratch = [Float](repeating: 0, count: bw * bh)
        var line = [Float](repeating: 0, count: max(bw, bh) + 2 * radius)
        Self.blurPlane(
            &red, width: width, box: box, kernel: kernel, radius: radius, scratch: &scratch, line: &line)
        Self.blurPlane(
            &green, width: width, box: box, kernel: kernel, radius: radius, scratch: &scratch, line: &line)
        Self.blurPlane(
            &blue, width: width, box: box, kernel: kernel, radius: radius, scratch: &scratch, line: &line)
    }

    /// Odd widths of three successive box filters whose combined variance is `sigma^2`
    /// (Kovesi, "Fast almost-Gaussian filtering", 2010).
    static func boxWidths(sigma: Float) -> [Int] {
        let ideal = (12 * sigma * sigma / 3 + 1).squareRoot()
        var lower = Int(ideal.rounded(.down))
        if lower % 2 == 0 { lower -= 1 }
        let upper = lower + 2
        let m = Int(
            ((12 * sigma * sigma - 3 * Float(lower * lower) - 12 * Float(lower) - 9)
                / (-4 * Float(lower) - 4)).rounded())
        return (0..<3).map { $0 < m ? lower : upper }
    }

    private static func boxBlurPlane(
        _ plane: inout [Float], width: Int, box: Box, widths: [Int], line: inout [Float],
        scratch: inout [Float],
        sums: inout [Float]
    ) {
        let bw = box.x1 - box.x0
        let bh = box.y1 - box.y0
        plane.withUnsafeMutableBufferPointer { p in
            line.withUnsafeMutableBufferPointer { l in
                scratch.withUnsafeMutableBufferPointer { s in
                    sums.withUnsafeMutableBufferPointer { acc in
                        for boxWidth in widths {
                            let r = boxWidth / 2
                            // Rows.
                            for y in 0..<bh {
                                let row = (box.y0 + y) &* width &+ box.x0
                                Self.runningMean(p, start: row, stride: 1, count: bw, radius: r, line: l)
                            }
                            // Columns: every column's running mean advances one row at a time, so
                            // memory is read row by row (the arithmetic per column is unchanged).
                            for y in 0..<bh {
                                let row = (box.y0 + y) &* width &+ box.x0
                                for x in 0..<bw { s[y &* bw &+ x] = p[row &+ x] }
                            }
                            let scale = 1 / Float(2 * r + 1)
                            let last = bh &- 1
                            for x in 0..<bw { acc[x] = 0 }
                            for k in -r...r {
                                let source = min(max(k, 0), last) &* bw
                                for x in 0..<bw { acc[x] += s[source &+ x] }
                            }
                            for y in 0..<bh {
                                let row = (box.y0 + y) &* width &+ box.x0
                                let entering = min(y &+ r &+ 1, last) &* bw
                                let leaving = max(y &- r, 0) &* bw
                                for x in 0..<bw {
                                    p[row &+ x] = acc[x] * scale
                                    acc[x] += s[entering &+ x] - s[leaving &+ x]
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Replaces `count` values at `start, start + stride, ...` by their mean over a window of
    /// `2 * radius + 1`, edges clamped.
    @inline(__always)
    private static func runningMean(
        _ p: UnsafeMutableBufferPointer<Float>, start: Int, stride: Int, count: Int, radius: Int,
        line: UnsafeMutableBufferPointer<Float>
    ) {
        for i in 0..<count { line[i] = p[start &+ i &* stride] }
        let scale = 1 / Float(2 * radius + 1)
        let last = count &- 1
        var acc: Float = 0
        for k in -radius...radius { acc += line[min(max(k, 0), last)] }
        for i in 0..<count {
            p[start &+ i &* stride] = acc * scale
            acc += line[min(i &+ radius &+ 1, last)] - line[max(i &- radius, 0)]
        }
    }

    private static func blurPlane(
        _ plane: inout [Float], width: Int, box: Box, kernel: [Float], radius: Int,
        scratch: inout [Float], line: inout [Float]
    ) {
        let bw = box.x1 - box.x0
        let bh = box.y1 - box.y0
        let taps = kernel.count
        plane.withUnsafeMutableBufferPointer { p in
            scratch.withUnsafeMutableBufferPointer { s in
                line.withUnsafeMutableBufferPointer { l in
                    kernel.withUnsafeBufferPointer { k in
                        // Rows: plane -> scratch.
                        for y in 0..<bh {
                            let row = (box.y0 + y) &* width &+ box.x0
                            for x in 0..<bw { l[x &+ radius] = p[row &+ x] }
                            for x in 0..<radius {
                                l[x] = p[row]
                                l[bw &+ radius &+ x] = p[row &+ bw &- 1]
                            }
                            for x in 0..<bw {
                                var acc: Float = 0
                                for t in 0..<taps { acc += k[t] * l[x &+ t] }
                                s[y &* bw &+ x] = acc
                            }
                        }
                        // Columns: scratch -> plane, several columns at once for cache locality.
                        for y in 0..<bh {
                            let row = (box.y0 + y) &* width &+ box.x0
                            for x in 0..<bw { p[row &+ x] = 0 }
                        }
                        for t in 0..<taps {
                            let weight = k[t]
                            let offset = t &- radius
                            for y in 0..<bh {
                                let source = min(max(y &+ offset, 0), bh &- 1)
                                let srow = source &* bw
                                let drow = (box.y0 + y) &* width &+ box.x0
                                for x in 0..<bw { p[drow &+ x] += weight * s[srow &+ x] }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Light (or transmission) as a function of the offset from a component's centre.
protocol SurfaceProfile {
    /// `(r, g, b)` flux at pixel-centre offset `(dx, dy)`; `w` is unused.
    func flux(_ dx: Float, _ dy: Float) -> SIMD4<Float>
}
