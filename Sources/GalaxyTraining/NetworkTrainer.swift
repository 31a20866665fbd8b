import Foundation
import GalaxyCore
import GalaxyEngine

/// Loss and accuracy over one pass.
public struct PassMetrics: Sendable, Codable, Hashable {
    public var loss: Double
    public var accuracy: Double
    public var samples: Int
}

/// Writes training sample `sample`, augmented as drawn from `seed`, for worker thread `worker`
/// (0..<threads; each worker calls from its own thread only).
public protocol SampleRendering: Sendable {
    func render(sample: Int, seed: UInt64, worker: Int, into output: UnsafeMutablePointer<Float>)
}

/// Mini-batch training of the network, data-parallel over the batch.
///
/// A batch is cut into groups: with BatchNorm, groups of at most `batchNormGroup` samples whatever
/// the thread count (each group normalises with its own statistics, as in "ghost" batch norm, so
/// the arithmetic does not depend on `threads`); without, one group per thread. Workers take the
/// groups in turn through their own workspaces; every group has its own gradient buffer, and the
/// buffers are summed in group order (so the result does not depend on which thread took which
/// group) before the optimiser steps once.
public final class NetworkTrainer: @unchecked Sendable {
    public let layout: ParameterLayout
    public let threads: Int
    public let batchSize: Int
    /// Samples per BatchNorm group.
    public let batchNormGroup: Int
    /// The current weights, in `layout` order (BatchNorm's running statistics included).
    public var parameters: [Float]
    public var optimizer: OptimizerState
    /// Label smoothing of the training loss.
    public var labelSmoothing: Float = 0
    /// BatchNorm's running-statistics momentum (PyTorch's default).
    public let batchNormMomentum: Float = 0.1

    private let groupCapacity: Int
    private let shards: [ShardBuffers]
    private let groupBuffers: [GroupBuffers]
    private let decayMask: [Bool]
    /// The batch-mean gradient of the last `step` (summed over the workers), in `layout` order;
    /// zeros before the first step.
    public private(set) var summedGradient: [Float]

    /// - Parameters:
    ///   - parameters: starting weights; He-initialised from `seed` when nil.
    public init(
        architecture: Architecture, optimizer settings: OptimizerSettings, batchSize: Int,
        threads: Int = WorkerPool.defaultThreadCount, seed: UInt64, parameters: [Float]? = nil, batchNormGroup: Int = 32
    ) {
        precondition(architecture.isValid, "architecture \(architecture) is not a usable network")
        precondition(batchSize > 0, "batch size must be at least 1")
        layout = ParameterLayout(architecture)
        self.batchSize = batchSize
        self.batchNormGroup = max(1, batchNormGroup)
        self.threads = max(1, min(threads, batchSize))
        self.parameters = parameters ?? layout.initialParameters(seed: seed)
        precondition(self.parameters.count == layout.totalCount, "parameters do not fit the architecture")
        optimizer = OptimizerState(settings: settings, parameterCount: layout.totalCount)
        groupCapacity = Self.groups(count: batchSize, architecture: architecture, threads: self.threads, batchNormGroup: self.batchNormGroup).size
        var mask = [Bool](repeating: false, count: layout.totalCount)
        for t in layout.tensors where t.decays { for i in t.offset..<(t.offset + t.count) { mask[i] = true } }
        decayMask = mask
        // Parallel over the batch here, so each GEMM runs on its worker's thread only.
        Kernels.setBLASThreads(1)
        let capacity = max(groupCapacity, (batchSize + self.threads - 1) / self.threads)
        let layout = self.layout
        shards = (0..<self.threads).map { _ in ShardBuffers(layout: layout, capacity: capacity) }
        let maxGroups = Self.groups(count: batchSize, architecture: architecture, threads: self.threads, batchNormGroup: self.batchNormGroup).number
        groupBuffers = (0..<maxGroups).map { _ in GroupBuffers(layout: layout) }
        summedGradient = [Float](repeating: 0, count: layout.totalCount)
    }

    /// How a batch of `count` samples is cut: `number` groups of at most `size`.
    static func groups(count: Int, architecture: Architecture, threads: Int, batchNormGroup: Int) -> (number: Int, size: Int) {
        let wanted = architecture.batchNorm ? (count + batchNormGroup - 1) / batchNormGroup : min(threads, count)
        let size = (count + wanted - 1) / wanted
        // Never an empty group: 4 samples over 3 threads are 2 groups of 2.
        return ((count + size - 1) / size, size)
    }

    /// One optimiser step on the samples at `indices` of `set`.
    /// - Parameters:
    ///   - mirrored: mirror each sample left-right (used when `render` is nil).
    ///   - render: draws each sample anew (augmentation) from `sampleSeeds`; nil copies `set.features`.
    ///   - sampleSeeds: one seed per sample of the batch, for its augmentation and dropout mask.
    ///   - learningRate: this step's rate (from the schedule); nil for the optimiser's setting.
    /// - Returns: the batch's summed loss and correct count.
    public func step(
        set: SampleSet, indices: ArraySlice<Int>, mirrored: ArraySlice<Bool>? = nil, render: (any SampleRendering)? = nil,
        sampleSeeds: ArraySlice<UInt64>? = nil, learningRate: Float? = nil
    ) -> (loss: Double, correct: Int) {
        let count = indices.count
        precondition(count > 0 && count <= batchSize, "batch of \(count) samples, expected 1...\(batchSize)")
        precondition(render == nil || sampleSeeds != nil, "rendering samples needs a seed per sample")
        let (groupCount, per) = Self.groups(count: count, architecture: layout.architecture, threads: threads, batchNormGroup: batchNormGroup)
        let workers = min(threads, groupCount)
        let scale = 1 / Float(count)
        let results = UnsafeMutableBufferPointer<(Double, Int)>.allocate(capacity: groupCount)
        defer { results.deallocate() }
        let indexArray = Array(indices)
        let mirrorArray = mirrored.map(Array.init)
        let seedArray = sampleSeeds.map(Array.init)
        let size = layout.architecture.inputSize
        let channels = layout.architecture.inputChannels
        let classes = layout.architecture.classes
        let smoothing = labelSmoothing
        parameters.withUnsafeBufferPointer { params in
            set.features.withUnsafeBufferPointer { features in
                set.targets.withUnsafeBufferPointer { targets in
                    let box = Unchecked((self, params.baseAddress!, features.baseAddress!, targets.baseAddress!, results))
                    WorkerPool.forEach(groupCount, threads: workers) { worker, group in
                        let (trainer, paramsBase, featureBase, targetBase, results) = box.value
                        let lo = group * per
                        let hi = min(count, lo + per)
                        let n = hi - lo
                        let groupBuffers = trainer.groupBuffers[group]
                        let buffers = trainer.shards[worker]
                        let sampleSize = set.sampleSize
                        for k in 0..<n {
                            let sample = indexArray[lo + k]
                            let dst = buffers.input + k * sampleSize
                            if let render {
                                render.render(sample: sample, seed: seedArray![lo + k], worker: worker, into: dst)
                            } else if mirrorArray?[lo + k] == true {
                                Self.mirror(featureBase + sample * sampleSize, into: dst, channels: channels, side: size)
                            } else {
                                dst.update(from: featureBase + sample * sampleSize, count: sampleSize)
                            }
                            (buffers.targets + k * classes).update(from: targetBase + sample * classes, count: classes)
                            buffers.soft[k] = set.soft[sample]
                            buffers.dropoutSeeds[k] = Self.dropoutSeed(seedArray?[lo + k] ?? UInt64(lo + k))
                        }
                        let ws = buffers.workspace
                        ws.resetBatchStatistics()
                        ws.forward(parameters: paramsBase, input: buffers.input, images: n, training: true, dropoutSeeds: buffers.dropoutSeeds)
                        let r = ws.loss(targets: buffers.targets, soft: buffers.soft, images: n, lossScale: scale, smoothing: smoothing)
                        groupBuffers.gradient.update(repeating: 0, count: trainer.layout.totalCount)
                        ws.backward(parameters: paramsBase, images: n, gradients: groupBuffers.gradient)
                        groupBuffers.keepBatchStatistics(of: ws)
                        results[group] = (r.loss, r.correct)
                    }
                }
            }
        }
        let total = layout.totalCount
        summedGradient.withUnsafeMutableBufferPointer { sum in
            sum.baseAddress!.update(from: groupBuffers[0].gradient, count: total)
            for g in 1..<groupCount {
                let part = groupBuffers[g].gradient
                for i in 0..<total { sum[i] += part[i] }
            }
        }
        optimizer.apply(gradients: summedGradient, to: &parameters, learningRate: learningRate, decayMask: decayMask)
        updateRunningStatistics(groups: groupCount)
        var loss = 0.0
        var correct = 0
        for g in 0..<groupCount {
            loss += results[g].0
            correct += results[g].1
        }
        return (loss, correct)
    }

    /// The dropout stream of a sample, apart from its augmentation stream.
    private static func dropoutSeed(_ sampleSeed: UInt64) -> UInt64 {
        var rng = SeededGenerator(seed: sampleSeed ^ 0xD50F_0D50_F0D5_0F0D)
        return rng.next()
    }

    /// Moves BatchNorm's running statistics towards the mean of this step's group statistics.
    private func updateRunningStatistics(groups: Int) {
        guard layout.architecture.batchNorm, groups > 0 else { return }
        let m = batchNormMomentum
        for (i, conv) in layout.convs.enumerated() {
            let mean = conv.runningMean!
            let variance = conv.runningVariance!
            for c in 0..<mean.count {
                var meanSum: Float = 0
                var varianceSum: Float = 0
                for g in 0..<groups {
                    meanSum += groupBuffers[g].means[i][c]
                    varianceSum += groupBuffers[g].variances[i][c]
                }
                parameters[mean.offset + c] = (1 - m) * parameters[mean.offset + c] + m * meanSum / Float(groups)
                parameters[variance.offset + c] = (1 - m) * parameters[variance.offset + c] + m * varianceSum / Float(groups)
            }
        }
    }

    /// The logits of every sample of `set`, `[count, classes]`, computed across the threads in
    /// inference mode (BatchNorm with its running statistics, no dropout).
    public func logits(for set: SampleSet, parameters override: [Float]? = nil) -> [Float] {
        let classes = layout.architecture.classes
        var output = [Float](repeating: 0, count: set.count * classes)
        guard set.count > 0 else { return output }
        let chunk = shards[0].workspace.capacity
        let chunks = (set.count + chunk - 1) / chunk
        let params = override ?? parameters
        params.withUnsafeBufferPointer { p in
            set.features.withUnsafeBufferPointer { f in
                output.withUnsafeMutableBufferPointer { out in
                    let box = Unchecked((self, p.baseAddress!, f.baseAddress!, out.baseAddress!))
                    WorkerPool.forEach(chunks, threads: threads) { worker, c in
                        let (trainer, pBase, fBase, oBase) = box.value
                        let ws = trainer.shards[worker].workspace
                        let lo = c * chunk
                        let n = min(set.count, lo + chunk) - lo
                        ws.forward(parameters: pBase, input: fBase + lo * set.sampleSize, images: n)
                        (oBase + lo * classes).update(from: ws.logits, count: n * classes)
                    }
                }
            }
        }
        return output
    }

    /// Loss (without smoothing), accuracy (top label inside the target) and the predicted label of
    /// every sample of `set`, plus the softmax probabilities, `[count, classes]`.
    public func evaluate(_ set: SampleSet, parameters override: [Float]? = nil) -> (metrics: PassMetrics, predictions: [Int], probabilities: [Float]) {
        let classes = layout.architecture.classes
        var z = logits(for: set, parameters: override)
        var probabilities = [Float](repeating: 0, count: z.count)
        var loss = 0.0
        var correct = 0
        var predictions = [Int](repeating: 0, count: set.count)
        z.withUnsafeMutableBufferPointer { logits in
            set.targets.withUnsafeBufferPointer { targets in
                probabilities.withUnsafeMutableBufferPointer { p in
                    for n in 0..<set.count {
                        let row = logits.baseAddress! + n * classes
                        let r = NetworkWorkspace.softmaxLoss(
                            logits: row, target: targets.baseAddress! + n * classes, soft: set.soft[n], classes: classes,
                            smoothing: 0, probabilities: p.baseAddress! + n * classes)
                        var top = 0
                        for k in 1..<classes where row[k] > row[top] { top = k }
                        predictions[n] = top
                        loss += r.loss
                        if r.correct { correct += 1 }
                    }
                }
            }
        }
        let count = max(set.count, 1)
        return (
            PassMetrics(loss: loss / Double(count), accuracy: Double(correct) / Double(count), samples: set.count), predictions,
            probabilities
        )
    }

    /// Left-right mirror of a CHW tensor.
    static func mirror(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, channels: Int, side: Int) {
        for row in 0..<(channels * side) {
            let s = src + row * side
            let d = dst + row * side
            for x in 0..<side { d[x] = s[side - 1 - x] }
        }
    }
}

/// One group's gradient and BatchNorm statistics.
private final class GroupBuffers: @unchecked Sendable {
    let gradient: UnsafeMutablePointer<Float>
    private let count: Int
    /// Per convolution: the group's batch mean and unbiased variance of every channel.
    var means: [[Float]]
    var variances: [[Float]]

    init(layout: ParameterLayout) {
        count = layout.totalCount
        gradient = .allocate(capacity: count)
        gradient.initialize(repeating: 0, count: count)
        let channels = layout.architecture.convLayers.map(\.outputChannels)
        means = channels.map { [Float](repeating: 0, count: $0) }
        variances = means
    }

    func keepBatchStatistics(of workspace: NetworkWorkspace) {
        for i in means.indices {
            guard let m = workspace.batchMeanSums[i], let v = workspace.batchVarianceSums[i] else { continue }
            for c in means[i].indices {
                means[i][c] = m[c]
                variances[i][c] = v[c]
            }
        }
    }

    deinit { gradient.deallocate() }
}

/// One worker's input batch, targets, dropout seeds and workspace.
private final class ShardBuffers: @unchecked Sendable {
    let workspace: NetworkWorkspace
    let input: UnsafeMutablePointer<Float>
    let targets: UnsafeMutablePointer<Float>
    let soft: UnsafeMutablePointer<Bool>
    let dropoutSeeds: UnsafeMutablePointer<UInt64>

    init(layout: ParameterLayout, capacity: Int) {
        workspace = NetworkWorkspace(layout: layout, capacity: capacity)
        let inputCount = capacity * layout.architecture.inputCount
        input = .allocate(capacity: inputCount)
        input.initialize(repeating: 0, count: inputCount)
        let targetCount = capacity * layout.architecture.classes
        targets = .allocate(capacity: targetCount)
        targets.initialize(repeating: 0, count: targetCount)
        soft = .allocate(capacity: capacity)
        soft.initialize(repeating: false, count: capacity)
        dropoutSeeds = .allocate(capacity: capacity)
        dropoutSeeds.initialize(repeating: 0, count: capacity)
    }

    deinit {
        input.deallocate()
        targets.deallocate()
        soft.deallocate()
        dropoutSeeds.deallocate()
    }
}

/// Hands a value to worker threads that the caller guarantees to use race-free (each worker
/// touches only its own shard's buffers).
struct Unchecked<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
