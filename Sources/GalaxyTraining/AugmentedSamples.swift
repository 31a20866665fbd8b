import Foundation
import GalaxyCore
import GalaxyImage

/// The training images decoded once into frames, and one `Augmenter` per worker thread that
/// renders a fresh augmented sample from a frame and a seed each time the trainer asks.
final class AugmentedSamples: SampleRendering, @unchecked Sendable {
    private let frames: [AugmentationFrame]
    private let augmenters: [Augmenter]

    /// - Parameters:
    ///   - jpegs: the training images, in sample order (one sample per image).
    ///   - sources: where each came from, for errors.
    /// - Throws: `TrainingError.image` naming the first image that does not decode.
    init(_ jpegs: [[UInt8]], sources: [String], settings: AugmentationSettings, options: PreprocessOptions, threads: Int) throws {
        var frames = [AugmentationFrame?](repeating: nil, count: jpegs.count)
        let failure = FirstFailure()
        frames.withUnsafeMutableBufferPointer { out in
            let box = Unchecked(out)
            WorkerPool.forEach(jpegs.count, threads: threads) { _, i in
                do throws(ImageError) {
                    box.value[i] = try AugmentationFrame(jpeg: jpegs[i], options: options)
                } catch {
                    failure.record(index: i, error)
                }
            }
        }
        if let (i, error) = failure.first { throw TrainingError.image(path: sources[i], reason: "cannot decode it for augmentation: \(error)") }
        self.frames = frames.map { $0! }
        augmenters = (0..<max(1, threads)).map { _ in Augmenter(settings: settings, options: options) }
    }

    func render(sample: Int, seed: UInt64, worker: Int, into output: UnsafeMutablePointer<Float>) {
        augmenters[worker].render(frames[sample], seed: seed, into: output)
    }
}

/// The lowest-numbered failure reported from worker threads.
private final class FirstFailure: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var first: (Int, ImageError)?

    func record(index: Int, _ error: ImageError) {
        lock.lock()
        if first == nil || first!.0 > index { first = (index, error) }
        lock.unlock()
    }
}
