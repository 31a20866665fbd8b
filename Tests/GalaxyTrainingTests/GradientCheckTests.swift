import Testing

@testable import GalaxyTraining

/// Analytic gradients of the whole network against central finite differences, for every layer
/// kind (conv with bias or BatchNorm, pooling, flatten or global average pooling, hidden dense,
/// dropout with fixed masks) and every loss (one label, a set of labels, vote fractions, label
/// smoothing).
@Suite struct GradientCheckTests {
    /// Tiny networks that still have odd map sizes (floor pooling) and several images per batch.
    static let classic = Architecture(inputChannels: 2, inputSize: 9, convChannels: [3, 4, 2], hidden: 5, classes: 4)
    static let batchNormGAP = Architecture(
        inputChannels: 2, inputSize: 9, convChannels: [3, 4], depth: 2, batchNorm: true, globalPool: true, hidden: 0, classes: 4)
    static let batchNormDropout = Architecture(
        inputChannels: 2, inputSize: 9, convChannels: [3, 2], batchNorm: true, hidden: 5, dropout: 0.3, classes: 4)

    enum Targets: String, CaseIterable, CustomTestStringConvertible {
        case labels, sets, distributions, smoothedSets
        var testDescription: String { rawValue }
    }

    struct Problem {
        var parameters: [Float]
        var input: [Float]
        var targets: [Float]
        var soft: [Bool]
        var smoothing: Float
        var dropoutSeeds: [UInt64]
        let architecture: Architecture
        let workspace: NetworkWorkspace
        let images: Int

        init(_ architecture: Architecture, seed: UInt64, images: Int, targets kind: Targets = .labels) {
            self.architecture = architecture
            let layout = ParameterLayout(architecture)
            var rng = SeededGenerator(seed: seed)
            parameters = layout.initialParameters(seed: seed)
            for t in layout.tensors where t.shape.count == 1 && t.trainable {
                for i in 0..<t.count { parameters[t.offset + i] += Float(rng.nextUnit() * 0.2 - 0.1) }
            }
            input = (0..<(images * architecture.inputCount)).map { _ in Float(rng.nextUnit()) }
            let k = architecture.classes
            targets = [Float](repeating: 0, count: images * k)
            soft = [Bool](repeating: kind == .distributions, count: images)
            for n in 0..<images {
                switch kind {
                case .labels:
                    targets[n * k + Int(rng.next() % UInt64(k))] = 1
                case .sets, .smoothedSets:
                    let first = Int(rng.next() % UInt64(k))
                    targets[n * k + first] = 1
                    targets[n * k + (first + 1 + Int(rng.next() % UInt64(k - 1))) % k] = 1
                case .distributions:
                    let raw = (0..<k).map { _ in Float(rng.nextUnit()) }
                    let sum = raw.reduce(0, +)
                    for j in 0..<k { targets[n * k + j] = raw[j] / sum }
                }
            }
            smoothing = kind == .smoothedSets ? 0.1 : 0
            dropoutSeeds = (0..<images).map { _ in rng.next() }
            workspace = NetworkWorkspace(layout: layout, capacity: images)
            self.images = images
        }

        /// Mean training loss at the given parameters, in double precision from float logits
        /// (BatchNorm with batch statistics, the same dropout masks every time).
        func loss(_ p: [Float]) -> Double {
            run(p, gradients: nil)
        }

        func analyticGradient() -> [Float] {
            var gradient = [Float](repeating: 0, count: parameters.count)
            gradient.withUnsafeMutableBufferPointer { gp in _ = run(parameters, gradients: gp.baseAddress!) }
            return gradient
        }

        private func run(_ p: [Float], gradients: UnsafeMutablePointer<Float>?) -> Double {
            p.withUnsafeBufferPointer { pp in
                input.withUnsafeBufferPointer { xp in
                    targets.withUnsafeBufferPointer { tp in
                        soft.withUnsafeBufferPointer { sp in
                            dropoutSeeds.withUnsafeBufferPointer { dp in
                                workspace.forward(
                                    parameters: pp.baseAddress!, input: xp.baseAddress!, images: images, training: true,
                                    dropoutSeeds: dp.baseAddress!)
                                let loss = workspace.loss(
                                    targets: tp.baseAddress!, soft: sp.baseAddress!, images: images, lossScale: 1 / Float(images),
                                    smoothing: smoothing
                                ).loss
                                if let gradients { workspace.backward(parameters: pp.baseAddress!, images: images, gradients: gradients) }
                                return loss / Double(images)
                            }
                        }
                    }
                }
            }
        }

        func numericGradient(at index: Int, epsilon: Float) -> Double {
            var plus = parameters
            var minus = parameters
            plus[index] += epsilon
            minus[index] -= epsilon
            let h = Double(plus[index]) - Double(minus[index])  // the step actually taken in float
            return (loss(plus) - loss(minus)) / h
        }

        /// The slopes just left and right of the point (forward and backward differences).
        func oneSidedGradients(at index: Int, epsilon: Float) -> (left: Double, right: Double) {
            var plus = parameters
            var minus = parameters
            plus[index] += epsilon
            minus[index] -= epsilon
            let here = loss(parameters)
            return (
                (here - loss(minus)) / (Double(parameters[index]) - Double(minus[index])),
                (loss(plus) - here) / (Double(plus[index]) - Double(parameters[index]))
            )
        }
    }

    /// - Parameter relativeTolerance: BatchNorm couples every pixel of a channel, so one of its
    ///   parameters moves many ReLU switches at once, each too small to be told apart from the
    ///   curvature; the BatchNorm networks allow 3% instead of 2%.
    static func check(_ problem: Problem, relativeTolerance: Double = 2e-2) {
        let analytic = problem.analyticGradient()
        let layout = ParameterLayout(problem.architecture)
        var checked = 0
        var skippedAtKinks = 0
        for tensor in layout.tensors {
            for i in tensor.offset..<(tensor.offset + tensor.count) {
                let coarse = problem.numericGradient(at: i, epsilon: 1e-3)
                let fine = problem.numericGradient(at: i, epsilon: 5e-4)
                // A ReLU or max-pool switch inside the step makes the two estimates disagree:
                // finite differences are not valid there, so such points are counted, not compared.
                if abs(coarse - fine) > 1e-3 + 1e-2 * abs(fine) {
                    skippedAtKinks += 1
                    continue
                }
                // A switch close enough to the point to sit inside both steps shows as a jump
                // between the slopes on either side (found with AVX-512 OpenBLAS kernels, whose
                // rounding moved one BatchNorm network's point onto such a switch).
                let (left, right) = problem.oneSidedGradients(at: i, epsilon: 5e-4)
                if abs(left - right) > 1e-3 + relativeTolerance * abs(fine) {
                    skippedAtKinks += 1
                    continue
                }
                let a = Double(analytic[i])
                #expect(
                    abs(a - fine) <= 1e-3 + relativeTolerance * abs(fine),
                    "\(tensor.name)[\(i - tensor.offset)]: analytic \(a) vs numeric \(fine)")
                if !tensor.trainable { #expect(a == 0, "\(tensor.name) is not trained but got a gradient") }
                checked += 1
            }
        }
        #expect(checked == layout.totalCount - skippedAtKinks)
        #expect(Double(skippedAtKinks) <= 0.05 * Double(layout.totalCount), "\(skippedAtKinks) parameters at kinks")
        // The gradient is not trivially zero.
        #expect(analytic.map { abs($0) }.max()! > 1e-3)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func everyParameterMatchesFiniteDifferences(seed: UInt64) {
        Self.check(Problem(Self.classic, seed: seed, images: 3))
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func batchNormAndGlobalPoolingMatchFiniteDifferences(seed: UInt64) {
        Self.check(Problem(Self.batchNormGAP, seed: seed, images: 3), relativeTolerance: 3e-2)
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func dropoutWithFixedMasksMatchesFiniteDifferences(seed: UInt64) {
        Self.check(Problem(Self.batchNormDropout, seed: seed, images: 4), relativeTolerance: 3e-2)
    }

    @Test(arguments: Targets.allCases)
    func everyLossMatchesFiniteDifferences(targets: Targets) {
        Self.check(Problem(Self.batchNormGAP, seed: 7, images: 3, targets: targets), relativeTolerance: 3e-2)
    }
}
