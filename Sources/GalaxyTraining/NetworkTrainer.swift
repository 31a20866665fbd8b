import Foundation
import GalaxyCore
import GalaxyEngine

/// Loss and accuracy over one pass.
public struct PassMetrics: Sendable, Codable, Hashable {
    public var loss: Double
    public var accuracy: Double
    public var samples: Int
}

/// Mini-batch training of the network, data-parallel over the batch: every worker thread runs
/// its share of the batch through its own workspace into its own gradient buffer, then the
/// buffers are summed and the optimiser steps once.
public final class NetworkTrainer: @unchecked Sendable {
    public let layout: ParameterLayout
    public let threads: Int
    public let batchSize: Int
    /// The current weights, in `layout` order.
    public var parameters: [Float]
    public var optimizer: OptimizerState

    private let shardCapacity: Int
    private let shards: [ShardBuffers]
    /// The batch-mean gradient of the last `step` (summed over the workers), in `layout` order;
    /// zeros before the first step.
    public private(set) var summedGradient: [Float]

    /// - Parameters:
    ///   - parameters: starting weights; He-initialised from `seed` when nil.
    public init(
        architecture: Architecture, optimizer settings: OptimizerSettings, batchSize: Int,
        threads: Int = WorkerPool.defaultThreadCount, seed: UInt64, parameters: [Float]? = nil
    ) {
        precondition(architecture.isValid, "architecture \(architecture) leaves no pixels after pooling")
        precondition(batchSize > 0, "batch size must be at least 1")
        layout = ParameterLayout(architecture)
        self.batchSize = batchSize
        self.threads = max(1, min(threads, batchSize))
        self.parameters = parameters ?? layout.initialParameters(seed: seed)
        precondition(self.parameters.count == layout.totalCount, "parameters do not fit the architecture")
        optimizer = OptimizerState(settings: settings, parameterCount: layout.totalCount)
        shardCapacity = (batchSize + self.threads - 1) / self.threads
        // Parallel over the batch here, so each GEMM runs on its worker's thread only.
        Kernels.setBLASThreads(1)
        let capacity = shardCapacity
        let layout = self.layout
        shards = (0..<self.threads).map { _ in ShardBuffers(layout: layout, capacity: capacity) }
        summedGradient = [Float](repeating: 0, count: layout.totalCount)
    }

    /// One optimiser step on the samples at `indices` of `set`, each optionally mirrored
    /// left-right. Returns the batch's summed loss and correct count.
    public func step(set: SampleSet, indices: ArraySlice<Int>, mirrored: ArraySlice<Bool>? = nil) -> (loss: Double, correct: Int) {
        let count = indices.count
        precondition(count > 0 && count <= batchSize, "batch of \(count) samples, expected 1...\(batchSize)")
        let shardCount = min(threads, count)
        let per = (count + shardCount - 1) / shardCount
        let scale = 1 / Float(count)
        let results = UnsafeMutableBufferPointer<(Double, Int)>.allocate(capacity: shardCount)
        defer { results.deallocate() }
        let indexArray = Array(indices)
        let mirrorArray = mirrored.map(Array.init)
        let size = layout.architecture.inputSize
        let channels = layout.architecture.inputChannels
        parameters.withUnsafeBufferPointer { params in
            set.features.withUnsafeBufferPointer { features in
                let box = Unchecked((self, params.baseAddress!, features.baseAddress!, results))
                WorkerPool.forEach(shardCount, threads: shardCount) { _, shard in
                    let (trainer, paramsBase, featureBase, results) = box.value
                    let lo = shard * per
                    let hi = min(count, lo + per)
                    let n = hi - lo
                    let buffers = trainer.shards[shard]
                    buffers.gradient.update(repeating: 0, count: trainer.layout.totalCount)
                    guard n > 0 else {
                        results[shard] = (0, 0)
                        return
                    }
                    let sampleSize = set.sampleSize
                    for k in 0..<n {
                        let sample = indexArray[lo + k]
                        let src = featureBase + sample * sampleSize
                        let dst = buffers.input + k * sampleSize
                        if mirrorArray?[lo + k] == true {
                            Self.mirror(src, into: dst, channels: channels, side: size)
                        } else {
                            dst.update(from: src, count: sampleSize)
                        }
                        buffers.labels[k] = set.labels[sample]
                    }
                    let ws = buffers.workspace
                    ws.forward(parameters: paramsBase, input: buffers.input, images: n)
                    let r = ws.softmaxCrossEntropy(labels: buffers.labels, images: n, lossScale: scale)
                    ws.backward(parameters: paramsBase, images: n, gradients: buffers.gradient)
                    results[shard] = (r.loss, r.correct)
                }
            }
        }
        let total = layout.totalCount
        summedGradient.withUnsafeMutableBufferPointer { sum in
            sum.baseAddress!.update(from: shards[0].gradient, count: total)
            for s in 1..<shardCount {
                let part = shards[s].gradient
                for i in 0..<total { sum[i] += part[i] }
            }
        }
        optimizer.apply(gradients: summedGradient, to: &parameters)
        var loss = 0.0
        var correct = 0
        for s in 0..<shardCount {
            loss += results[s].0
            correct += results[s].1
        }
        return (loss, correct)
    }

    /// The logits of every sample of `set`, `[count, classes]`, computed across the threads.
    public func logits(for set: SampleSet, parameters override: [Float]? = nil) -> [Float] {
        let classes = layout.architecture.classes
        var output = [Float](repeating: 0, count: set.count * classes)
        let chunk = shardCapacity
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

    /// Loss, accuracy and the predicted class of every sample of `set`.
    public func evaluate(_ set: SampleSet, parameters override: [Float]? = nil) -> (metrics: PassMetrics, predictions: [Int]) {
        let classes = layout.architecture.classes
        let z = logits(for: set, parameters: override)
        var loss = 0.0
        var correct = 0
        var predictions = [Int](repeating: 0, count: set.count)
        for n in 0..<set.count {
            let row = z[(n * classes)..<((n + 1) * classes)]
            let top = row.indices.max(by: { row[$0] < row[$1] })! - n * classes
            predictions[n] = top
            let zmax = Double(row.max()!)
            let sum = row.reduce(0.0) { $0 + exp(Double($1) - zmax) }
            loss += log(sum) + zmax - Double(row[n * classes + Int(set.labels[n])])
            if top == Int(set.labels[n]) { correct += 1 }
        }
        let count = max(set.count, 1)
        return (PassMetrics(loss: loss / Double(count), accuracy: Double(correct) / Double(count), samples: set.count), predictions)
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

/// One worker's input batch, labels, gradient buffer and workspace.
private final class ShardBuffers: @unchecked Sendable {
    let workspace: NetworkWorkspace
    let input: UnsafeMutablePointer<Float>
    let labels: UnsafeMutablePointer<Int32>
    let gradient: UnsafeMutablePointer<Float>

    init(layout: ParameterLayout, capacity: Int) {
        workspace = NetworkWorkspace(layout: layout, capacity: capacity)
        let inputCount = capacity * layout.architecture.inputCount
        input = .allocate(capacity: inputCount)
        input.initialize(repeating: 0, count: inputCount)
        labels = .allocate(capacity: capacity)
        labels.initialize(repeating: 0, count: capacity)
        gradient = .allocate(capacity: layout.totalCount)
        gradient.initialize(repeating: 0, count: layout.totalCount)
    }

    deinit {
        input.deallocate()
        labels.deallocate()
        gradient.deallocate()
    }
}

/// Hands a value to worker threads that the caller guarantees to use race-free (each worker
/// touches only its own shard's buffers).
struct Unchecked<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
