import Foundation

/// Which update rule `galaxy train` applies.
public enum OptimizerKind: String, Sendable, Codable, CaseIterable {
    case adam
    case sgd
}

/// Optimiser settings; the update rules follow PyTorch's `Adam`/`AdamW` and `SGD(momentum:)`
/// exactly, so runs compare one to one.
public struct OptimizerSettings: Sendable, Hashable, Codable {
    public var kind: OptimizerKind = .adam
    public var learningRate: Float = 1e-3
    /// SGD momentum (ignored by Adam).
    public var momentum: Float = 0.9
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    /// Decoupled weight decay (AdamW; for SGD, added to the gradient as PyTorch does), applied to
    /// the weights of convolutions and dense layers only, never to biases or BatchNorm.
    public var weightDecay: Float = 0

    public init(kind: OptimizerKind = .adam, learningRate: Float? = nil, momentum: Float = 0.9, weightDecay: Float = 0) {
        self.kind = kind
        self.learningRate = learningRate ?? (kind == .adam ? 1e-3 : 1e-2)
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    // Checkpoints from before weight decay read with none.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(OptimizerKind.self, forKey: .kind)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        momentum = try c.decode(Float.self, forKey: .momentum)
        beta1 = try c.decode(Float.self, forKey: .beta1)
        beta2 = try c.decode(Float.self, forKey: .beta2)
        epsilon = try c.decode(Float.self, forKey: .epsilon)
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? 0
    }
}

/// How the learning rate moves over a run.
public enum LearningRateSchedule: Sendable, Hashable, Codable {
    /// The optimiser's rate throughout.
    case constant
    /// Linear warm-up from rate/warmupSteps to the rate over `warmupSteps`, then half a cosine
    /// down to 0 at `totalSteps` (PyTorch's LinearLR + CosineAnnealingLR, stepped per batch).
    case cosine(warmupSteps: Int, totalSteps: Int)

    /// The rate of step `step` (0-based) for a base rate.
    public func rate(step: Int, base: Float) -> Float {
        switch self {
        case .constant: return base
        case .cosine(let warmup, let total):
            if step < warmup { return base * Float(step + 1) / Float(warmup) }
            let span = max(total - warmup, 1)
            let t = min(Double(step - warmup) / Double(span), 1)
            return base * Float(0.5 * (1 + cos(Double.pi * t)))
        }
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
    /// - Parameters:
    ///   - learningRate: this step's rate; nil for `settings.learningRate`.
    ///   - decayMask: which parameters weight decay applies to (nil: none).
    public mutating func apply(gradients: [Float], to parameters: inout [Float], learningRate: Float? = nil, decayMask: [Bool]? = nil) {
        precondition(gradients.count == parameters.count && first.count == parameters.count,
                     "optimizer: gradient, parameter and state sizes differ")
        step += 1
        var s = settings
        if let learningRate { s.learningRate = learningRate }
        let n = parameters.count
        let decay = s.weightDecay > 0 ? decayMask : nil
        precondition(decay == nil || decay!.count == n, "optimizer: decay mask size differs")
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
                                if let decay, decay[i] { p[i] *= 1 - s.learningRate * s.weightDecay }
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
                            var gi = g[i]
                            if let decay, decay[i] { gi += s.weightDecay * p[i] }
                            // PyTorch initialises the buffer with the first gradient.
                            b[i] = firstStep ? gi : s.momentum * b[i] + gi
                            p[i] -= s.learningRate * b[i]
                        }
                    }
                }
            }
        }
    }
}
