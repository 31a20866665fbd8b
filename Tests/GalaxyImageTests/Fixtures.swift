import Foundation

@testable import GalaxyImage

/// A small deterministic generator (SplitMix64), so corpora are the same on every run.
struct SeededRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: Range<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

enum Fixtures {
    /// A galaxy-like image: a bright elliptical core with spiral texture, a few stars and noise,
    /// on a dark sky that is never pure black (so empty rotation corners would show).
    static func galaxy(width: Int, height: Int, seed: UInt64 = 1) -> [UInt8] {
        var random = SeededRandom(seed: seed)
        let cx = Double(width) * (0.45 + 0.1 * random.unit())
        let cy = Double(height) * (0.45 + 0.1 * random.unit())
        let angle = random.unit() * .pi
        let stars = (0..<6).map { _ in
            (Double(random.int(0..<width)), Double(random.int(0..<height)), 0.5 + random.unit())
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let scale = Double(min(width, height))
        for y in 0..<height {
            for x in 0..<width {
                let dx = (Double(x) - cx) / scale, dy = (Double(y) - cy) / scale
                let u = dx * cos(angle) + dy * sin(angle)
                let v = -dx * sin(angle) + dy * cos(angle)
                let r = sqrt(u * u + 4 * v * v)
                let theta = atan2(v, u)
                let arms = 0.5 + 0.5 * sin(2 * theta + 18 * r)
                var value = 200 * exp(-r * 9) + 60 * arms * exp(-r * 4)
                for star in stars {
                    let d2 =
                        (Double(x) - star.0) * (Double(x) - star.0) + (Double(y) - star.1)
                        * (Double(y) - star.1)
                    value += 180 * star.2 * exp(-d2 / 3)
                }
                let noise = Double(random.int(0..<13)) - 6
                let base = 22.0
                let i = (y * width + x) * 3
                pixels[i] = UInt8(max(0, min(255, base + value * 1.00 + noise)))
                pixels[i + 1] = UInt8(max(0, min(255, base + value * 0.85 + noise)))
                pixels[i + 2] = UInt8(max(0, min(255, base + 8 + value * 0.70 + noise)))
            }
        }
        return pixels
    }

    /// A named way to write a JPEG, for corpora.
    struct Variant: CustomStringConvertible, Sendable {
        var name: String
        var options: JPEGEncoder.Options?  // nil: TurboJPEG's baseline encoder
        var description: String { name }
    }

    static let variants: [Variant] = [
        Variant(name: "turbojpeg baseline 4:2:0", options: nil),
        Variant(name: "4:4:4", options: .init(subsampling: .s444)),
        Variant(name: "4:2:2", options: .init(subsampling: .s422)),
        Variant(name: "4:2:0", options: .init(subsampling: .s420)),
        Variant(name: "4:4:0", options: .init(subsampling: .s440)),
        Variant(name: "4:1:1", options: .init(subsampling: .s411)),
        Variant(name: "grayscale", options: .init(storedColor: .grayscale)),
        Variant(name: "cmyk (ycck)", options: .init(subsampling: .s444, storedColor: .cmyk)),
        Variant(name: "progressive", options: .init(progressive: true)),
        Variant(name: "progressive 4:4:4", options: .init(subsampling: .s444, progressive: true)),
        Variant(name: "optimized huffman", options: .init(optimizedHuffman: true)),
        Variant(name: "restart markers", options: .init(restartInterval: 3)),
        Variant(name: "arithmetic", options: .init(arithmeticCoding: true)),
        Variant(name: "arithmetic progressive", options: .init(progressive: true, arithmeticCoding: true)),
    ]

    static func encode(_ rgb: [UInt8], width: Int, height: Int, variant: Variant) throws -> [UInt8] {
        if let options = variant.options {
            return try JPEGEncoder.encode(rgb: rgb, width: width, height: height, options: options)
        }
        return try JPEGEncoder.encode(rgb: rgb, width: width, height: height, quality: 90)
    }

    /// The luma conversion libjpeg uses, for comparing grayscale files with their colour source.
    static func gray(_ rgb: [UInt8]) -> [UInt8] {
        var out = rgb
        for i in stride(from: 0, to: rgb.count, by: 3) {
            let y = 0.299 * Double(rgb[i]) + 0.587 * Double(rgb[i + 1]) + 0.114 * Double(rgb[i + 2])
            let v = UInt8(max(0, min(255, y.rounded())))
            out[i] = v; out[i + 1] = v; out[i + 2] = v
        }
        return out
    }

    static func meanAbsDiff(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count)
        var total = 0
        for i in 0..<a.count { total += abs(Int(a[i]) - Int(b[i])) }
        return Double(total) / Double(max(1, a.count))
    }

    static func maxAbsDiff(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var worst = 0
        for i in 0..<a.count { worst = max(worst, abs(Int(a[i]) - Int(b[i]))) }
        return worst
    }

    /// The crop of an RGB image.
    static func crop(_ image: RGBImage, _ x: Int, _ y: Int, _ w: Int, _ h: Int) -> RGBImage {
        var out = [UInt8]()
        out.reserveCapacity(w * h * 3)
        for row in y..<(y + h) {
            let start = (row * image.width + x) * 3
            out += image.pixels[start..<(start + w * 3)]
        }
        return RGBImage(width: w, height: h, pixels: out)
    }

    /// Box averaging in double precision, the reference for the resize (shrinking only): output
    /// pixel o averages the input pixels whose centres lie in (o * n / m, (o + 1) * n / m], as
    /// Pillow's Image.BOX does. NCHW in [0,1].
    static func areaResize(_ image: RGBImage, to size: Int) -> [Double] {
        func weights(_ n: Int) -> [[(Int, Double)]] {
            let scale = Double(n) / Double(size)
            return (0..<size).map { o in
                let lo = Double(o) * scale, hi = Double(o + 1) * scale
                let members = (0..<n).filter { Double($0) + 0.5 > lo && Double($0) + 0.5 <= hi }
                return members.map { ($0, 1.0 / Double(members.count)) }
            }
        }
        let wx = weights(image.width), wy = weights(image.height)
        var out = [Double](repeating: 0, count: 3 * size * size)
        for oy in 0..<size {
            for ox in 0..<size {
                for c in 0..<3 {
                    var sum = 0.0
                    for (y, a) in wy[oy] {
                        for (x, b) in wx[ox] {
                            sum += a * b * Double(image.pixels[(y * image.width + x) * 3 + c])
                        }
                    }
                    out[c * size * size + oy * size + ox] = sum / 255
                }
            }
        }
        return out
    }
}
