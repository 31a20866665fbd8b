import Foundation

/// A pointwise activation, applied on its own or fused after a convolution or dense layer.
enum Activation: Sendable, Equatable {
    case none
    case relu
    case leakyRelu(alpha: Float)
    case sigmoid
    case tanh

    /// Whether `max(f(x), f(y)) == f(max(x, y))`, so that a max pool may run before it: every
    /// activation here is non-decreasing except a leaky ReLU with a negative slope.
    var commutesWithMax: Bool {
        if case .leakyRelu(let alpha) = self { return alpha >= 0 }
        return true
    }

    /// Applies the activation in place to `count` values.
    func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .none: return
        case .relu:
            for i in 0..<count { values[i] = max(values[i], 0) }
        case .leakyRelu(let alpha):
            for i in 0..<count {
                let v = values[i]
                values[i] = v < 0 ? v * alpha : v
            }
        case .sigmoid:
            for i in 0..<count {
                let v = values[i]
                // Split by sign so exp never overflows.
                if v >= 0 {
                    values[i] = 1 / (1 + Foundation.exp(-v))
                } else {
                    let e = Foundation.exp(v)
                    values[i] = e / (1 + e)
                }
            }
        case .tanh:
            for i in 0..<count { values[i] = Foundation.tanh(values[i]) }
        }
    }

    /// Adds a per-row bias and applies the activation to `rows x columns` values.
    func applyWithRowBias(_ values: UnsafeMutablePointer<Float>, rows: Int, columns: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = values + r * columns
            let b = bias[r]
            if case .relu = self {
                for i in 0..<columns { row[i] = max(row[i] + b, 0) }
            } else {
                for i in 0..<columns { row[i] += b }
                apply(row, count: columns)
            }
        }
    }

    /// Adds a per-column bias and applies the activation to `rows x columns` values.
    func applyWithColumnBias(_ values: UnsafeMutablePointer<Float>, rows: Int, columns: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = values + r * columns
            if case .relu = self {
                for i in 0..<columns { row[i] = max(row[i] + bias[i], 0) }
            } else {
                for i in 0..<columns { row[i] += bias[i] }
                apply(row, count: columns)
            }
        }
    }
}

extension Kernels {
    /// Softmax over `length` values spaced `inner` apart, for `outer * inner` such runs.
    static func softmax(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, outer: Int, length: Int, inner: Int) {
        for o in 0..<outer {
            for i in 0..<inner {
                let src = input + o * length * inner + i
                let dst = output + o * length * inner + i
                var peak = -Float.infinity
                for j in 0..<length { peak = max(peak, src[j * inner]) }
                var sum: Float = 0
                for j in 0..<length {
                    let e = Foundation.exp(src[j * inner] - peak)
                    dst[j * inner] = e
                    sum += e
                }
                let scale = 1 / sum
                for j in 0..<length { dst[j * inner] *= scale }
            }
        }
    }
}
