import Foundation

/// Which update rule `galaxy train` applies.
public enum OptimizerKind: String, Sendable, Codable, CaseIterable {
    case adam
    case sgd
}

/// Optimiser settings; the update rules follow PyTorch's `Adam` and `SGD(momentum:)` exactly, so
/// runs compare one to one.
public struct OptimizerSettings: Sendable, Hashable, Codable {
    public var kind: OptimizerKind = .adam
    public var learningRate: Float = 1e-3
    /// SGD momentum (ignored by Adam).
    public var momentum: Float = 0.9
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8

    public init(kind: OptimizerKind = .adam, learningRate: Float? = nil, momentum: Float = 0.9) {
        self.kind = kind
        self.learningRate = learningRate ?? (kind == .adam ? 1e-3 : 1e-2)
        self.momentum = momentum
    }
}

/// Optimiser state (moments, step count) over the flat parameter vector.
public struct OptimizerState: Sendable, Codable, Equatable {
    public var settings: OptimizerSettings
    public var step: Int = 0
    /// Adam's first moment, or SGD's momentum buffer.
    public var first: [Float]
    /// Adam's second moment (empty for SGD).
    public var second: [Float]

    public init(settings: OptimizerSettings, parameterCount: Int) {
        self.settings = settings
        first = [Float](repeating: 0, count: parameterCount)
        second = settings.kind == .adam ? [Float](repeating: 0, count: parameterCount) : []
    }

    /// Applies one update to `parameters` from the batch-mean `gradients`.
    public mutating func apply(gradients: [Float], to parameters: inout [Float]) {
        precondition(gradients.count == parameters.count && first.count == parameters.count,
                     "optimizer: gradient, parameter and state sizes differ")
        step += 1
        let s = settings
        let n = parameters.count
        switch s.kind {
        case .adam:
            let correction1 = 1 - Float(pow(Double(s.beta1), Double(step)))
            let correction2 = 1 - Float(pow(Double(s.beta2), Double(step)))
            let stepSize = s.learningRate / correction1
            let root2 = correction2.squareRoot()
            parameters.withUnsafeMutableBufferPointer { p in
                gradients.withUnsafeBufferPointer { g in
                    first.withUnsafeMutableBufferPointer { m in
                        second.withUnsafeMutableBufferPointer { v in
                            for i in 0..<n {
                                let gi = g[i]
                                m[i] = s.beta1 * m[i] + (1 - s.beta1) * gi
                                v[i] = s.beta2 * v[i] + (1 - s.beta2) * gi * gi
                                p[i] -= stepSize * m[i] / (v[i].squareRoot() / root2 + s.epsilon)
                            }
                        }
                    }
                }
            }
        case .sgd:
            let firstStep = step == 1
            parameters.withUnsafeMutableBufferPointer { p in
                gradients.withUnsafeBufferPointer { g in
                    first.withUnsafeMutableBufferPointer { b in
                        for i in 0..<n {
                            // PyTorch initialises the buffer with the first gradient.
                            b[i] = firstStep ? g[i] : s.momentum * b[i] + g[i]
                            p[i] -= s.learningRate * b[i]
                        }
                    }
                }
            }
        }
    }
}
