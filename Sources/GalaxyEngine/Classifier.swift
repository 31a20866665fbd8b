import Foundation
import GalaxyCore
import GalaxyImage

/// Why one image could not be classified.
public struct ClassifyError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The image's position in the request.
    public var index: Int
    /// The decoding or preprocessing failure.
    public var imageError: ImageError

    public var description: String { "image \(index): \(imageError)" }
}

/// Decodes, preprocesses and classifies JPEGs across all cores with one `Preprocessor` per
/// worker thread. Each image gets its own result, so one bad image never fails the others.
public final class Classifier: Sendable {
    /// The model that scores the images.
    public let model: InferenceModel
    /// Worker threads per call.
    public let threads: Int
    private let contexts: ContextPool

    /// - Parameters:
    ///   - model: a loaded model; its metadata decides the preprocessing.
    ///   - threads: worker threads per call.
    public init(model: InferenceModel, threads: Int = WorkerPool.defaultThreadCount) {
        self.model = model
        self.threads = max(1, threads)
        contexts = ContextPool(model: model)
    }

    /// Classifies JPEG files' bytes.
    /// - Parameters:
    ///   - jpegs: the files' bytes.
    ///   - rotations: test-time augmentation: every image is scored at each of these rotations
    ///     (degrees, counterclockwise) and the probabilities are averaged. `[0]` means none.
    /// - Returns: one result per input, in order.
    public func classify(_ jpegs: [[UInt8]], rotations: [Double] = [0]) -> [Result<Prediction, ClassifyError>] {
        let count = jpegs.count
        guard count > 0 else { return [] }
        let rotations = rotations.isEmpty ? [0] : rotations
        let bounds = Classifier.chunkBounds(
            count: count, threads: threads, largest: max(1, model.chunkSize / rotations.count))
        let chunks = bounds.count - 1
        let results = ResultSlots(count: count)
        // A single chunk (one image, say) leaves the other threads to its inference.
        let inferenceThreads = chunks == 1 ? threads : 1
        let work: @Sendable (Int) -> Void = { [self] c in
            let start = bounds[c]
            let end = bounds[c + 1]
            self.contexts.withContext(images: end - start, rotations: rotations.count) { context in
                context.classify(
                    jpegs: jpegs, range: start..<end, rotations: rotations, threads: inferenceThreads,
                    into: results)
            }
        }
        Kernels.setBLASThreads(max(1, threads / chunks))
        if chunks == 1 {
            work(0)
        } else {
            WorkerPool.forEach(chunks, threads: threads) { _, c in work(c) }
        }
        return results.collect()
    }

    /// Where the chunks of `count` images start, and `count` last: threads take chunks as they
    /// free up, and each chunk is a quarter of a thread's share of what is left (at most
    /// `largest`), so chunks shrink to single images towards the end. With equal chunks (4 images
    /// at a batch of 64 on 2 threads) a thread that took the last one left the other core idle for
    /// up to a chunk at the end of every call: about 1 ms of every 19 in galaxy serve.
    static func chunkBounds(count: Int, threads: Int, largest: Int) -> [Int] {
        var bounds = [0]
        var start = 0
        while start < count {
            let left = count - start
            start += max(1, min(largest, (left + 4 * threads - 1) / (4 * threads)))
            bounds.append(start)
        }
        return bounds
    }
}

/// Results written by worker threads at distinct indices.
private final class ResultSlots: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<Result<Prediction, ClassifyError>?>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }

    func set(_ index: Int, _ result: Result<Prediction, ClassifyError>) { slots[index] = result }

    func collect() -> [Result<Prediction, ClassifyError>] {
        slots.map { $0! }
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }
}

/// A worker's preprocessor and tensor buffers, reused across chunks and calls.
private final class ClassifyContext {
    let model: InferenceModel
    let preprocessor: Preprocessor
    var input: [Float] = []
    var output: [Float] = []
    var rowOwner: [Int] = []

    init(model: InferenceModel) {
        self.model = model
        preprocessor = Preprocessor(options: model.metadata.preprocessOptions)
    }

    func classify(
        jpegs: [[UInt8]], range: Range<Int>, rotations: [Double], threads: Int, into results: ResultSlots
    ) {
        let per = model.inputCount
        let rows = range.count * rotations.count
        if input.count < rows * per { input = [Float](repeating: 0, count: rows * per) }
        if output.count < rows * model.outputCount { output = [Float](repeating: 0, count: rows * model.outputCount) }
        rowOwner.removeAll(keepingCapacity: true)
        var used = 0
        input.withUnsafeMutableBufferPointer { inp in
            for index in range {
                // All rotations of one image come from a single decode.
                let target = UnsafeMutableBufferPointer(rebasing: inp[(used * per)..<((used + rotations.count) * per)])
                let error: ImageError? = jpegs[index].withUnsafeBytes { bytes -> ImageError? in
                    do {
                        if rotations.count == 1 {
                            try preprocessor.preprocess(jpeg: bytes, rotationDegrees: rotations[0], into: target)
                        } else {
                            try preprocessor.preprocess(jpeg: bytes, rotations: rotations, into: target)
                        }
                        return nil
                    } catch {
                        return error as? ImageError ?? ImageError(.corrupt, "\(error)")
                    }
                }
                if let error {
                    results.set(index, .failure(ClassifyError(index: index, imageError: error)))
                } else {
                    used += rotations.count
                    rowOwner.append(index)
                }
            }
        }
        guard used > 0 else { return }
        input.withUnsafeBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                model.run(
                    input: UnsafeBufferPointer(rebasing: inp[0..<(used * per)]), batch: used,
                    output: UnsafeMutableBufferPointer(rebasing: out[0..<(used * model.outputCount)]),
                    threads: threads)
            }
        }
        let k = model.outputCount
        let labels = model.metadata.labels
        let classes = model.metadata.classes
        output.withUnsafeBufferPointer { out in
            for (i, index) in rowOwner.enumerated() {
                var mean = [Float](repeating: 0, count: k)
                for r in 0..<rotations.count {
                    let row = (i * rotations.count + r) * k
                    let p = Prediction.probabilities(from: UnsafeBufferPointer(rebasing: out[row..<(row + k)]), output: model.metadata.output)
                    for j in 0..<k { mean[j] += p[j] / Float(rotations.count) }
                }
                results.set(index, .success(Prediction(labels: labels, classes: classes, probabilities: mean)))
            }
        }
    }
}

/// Contexts for the worker threads of one classifier.
private final class ContextPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [ClassifyContext] = []
    private let model: InferenceModel

    init(model: InferenceModel) { self.model = model }

    func withContext(images: Int, rotations: Int, _ body: (ClassifyContext) -> Void) {
        lock.lock()
        let context = free.popLast() ?? ClassifyContext(model: model)
        lock.unlock()
        body(context)
        lock.lock()
        free.append(context)
        lock.unlock()
    }
}
