import Foundation

/// The steps of `Augmenter.render` on the resized tensor, in the [0,1] domain.
extension Augmenter {
    /// Kernel half-width for `sigma`: 3 sigma, at least 1, at most the image side.
    static func blurRadius(sigma: Double, size: Int) -> Int {
        min(max(1, Int((3 * sigma).rounded(.up))), max(1, size - 1))
    }

    /// Separable Gaussian blur of each plane, edges replicated.
    func blur(_ output: UnsafeMutablePointer<Float>, sigma: Double) {
        let size = options.size
        let radius = min(Self.blurRadius(sigma: sigma, size: size), kernelCapacity - 1)
        var total: Float = 0
        for t in 0...radius {
            let weight = Float(exp(-Double(t * t) / (2 * sigma * sigma)))
            kernel[t] = weight
            total += t == 0 ? weight : 2 * weight
        }
        for t in 0...radius { kernel[t] /= total }
        let last = size - 1
        for c in 0..<3 {
            let image = output + c * size * size
            // Rows into the scratch plane, then columns back.
            for y in 0..<size {
                let row = image + y * size, target = plane + y * size
                for x in 0..<size {
                    var sum = kernel[0] * row[x]
                    for t in 1...radius {
                        sum += kernel[t] * (row[max(x - t, 0)] + row[min(x + t, last)])
                    }
                    target[x] = sum
                }
            }
            for y in 0..<size {
                for x in 0..<size {
                    var sum = kernel[0] * plane[y * size + x]
                    for t in 1...radius {
                        sum += kernel[t] * (plane[max(y - t, 0) * size + x] + plane[min(y + t, last) * size + x])
                    }
                    image[y * size + x] = sum
                }
            }
        }
    }

    /// Multiplies each plane by brightness times its colour gain.
    func applyGains(_ output: UnsafeMutablePointer<Float>, _ draw: AugmentationDraw) {
        let count = options.size * options.size
        for c in 0..<3 {
            let gain = Float(draw.brightness * draw.colour[c])
            guard gain != 1 else { continue }
            let image = output + c * count
            for i in 0..<count { image[i] *= gain }
        }
    }

    /// Adds independent Gaussian noise of `sigma` to every value, from the sample's noise
    /// stream: Box-Muller on two 24-bit uniforms per 64-bit draw, both outputs used.
    func addNoise(_ output: UnsafeMutablePointer<Float>, sigma: Float, seed: UInt64) {
        var random = SeededGenerator(seed: seed).derived(Self.noiseStream)
        let count = options.floatCount
        var i = 0
        while i < count {
            let bits = random.next()
            let u1 = Float((bits >> 40) + 1) * 0x1p-24  // (0, 1]: the logarithm stays finite
            let u2 = Float((bits >> 16) & 0xFF_FFFF) * 0x1p-24
            let radius = (-2 * logf(u1)).squareRoot() * sigma
            let angle = 2 * Float.pi * u2
            output[i] += radius * cosf(angle)
            if i + 1 < count { output[i + 1] += radius * sinf(angle) }
            i += 2
        }
    }
}
