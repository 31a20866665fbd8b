import Foundation
import GalaxyCore
import GalaxyImage

/// What a finished synthesis wrote.
public struct SynthSummary: Sendable {
    /// Images written.
    public var images: Int
    /// Images per label.
    public var labelCounts: [String: Int]
    /// Total JPEG bytes.
    public var bytes: Int
    /// Wall-clock seconds.
    public var seconds: Double
}

/// Renders a `SynthPlan` into `DIR/images/<id>.jpg` plus `DIR/catalog.csv` (`id,specobjid,label`),
/// in parallel on dedicated threads.
public enum SyntheticDatasetWriter {
    /// The catalog header line.
    public static let catalogHeader = "id,specobjid,label"

    /// Writes the data set.
    /// - Parameters:
    ///   - plan: what to render.
    ///   - directory: output folder; created when missing; existing files of the same names are replaced.
    ///   - threads: worker threads.
    ///   - progress: advanced once per image.
    /// - Throws: `SynthError` naming the file that could not be written or encoded.
    public static func write(
        plan: SynthPlan, to directory: String, threads: Int = WorkerPool.defaultThreadCount,
        progress: ProgressBar? = nil
    ) throws(SynthError) -> SynthSummary {
        try plan.validate()
        let start = Date()
        let imagesDirectory = (directory as NSString).appendingPathComponent("images")
        do {
            try FileManager.default.createDirectory(
                atPath: imagesDirectory, withIntermediateDirectories: true)
        } catch {
            throw SynthError(
                .io, "cannot create \(imagesDirectory): \(error.localizedDescription); check the --out path")
        }
        let renderer = SyntheticGalaxyRenderer(size: plan.size)
        let failures = FailureLog()
        let bytes = ByteCounter()
        WorkerPool.forEach(plan.count, threads: threads) { _, index in
            let item = plan.item(index)
            let path = (imagesDirectory as NSString).appendingPathComponent("\(item.id).jpg")
            var failed = 0
            do {
                let image = try renderer.render(label: item.label, seed: item.renderSeed)
                let jpeg = try JPEGEncoder.encode(
                    rgb: image.pixels, width: image.width, height: image.height, quality: item.jpegQuality)
                guard FileManager.default.createFile(atPath: path, contents: Data(jpeg)) else {
                    throw SynthError(.io, "cannot write \(path): check free space and permissions")
                }
                bytes.add(jpeg.count)
            } catch let error as SynthError {
                failures.record(index, error)
                failed = 1
            } catch {
                failures.record(index, SynthError(.encode, "cannot encode \(path): \(error)"))
                failed = 1
            }
            progress?.advance(failed: failed)
        }
        if let first = failures.first {
            throw SynthError(
                first.code, "\(first.message) (\(failures.count) of \(plan.count) images failed)")
        }
        var catalog = catalogHeader + "\n"
        var counts: [String: Int] = [:]
        for index in 0..<plan.count {
            let item = plan.item(index)
            catalog += "\(item.id),\(item.specobjid),\(item.label)\n"
            counts[item.label, default: 0] += 1
        }
        let catalogPath = (directory as NSString).appendingPathComponent("catalog.csv")
        // The catalog goes last and atomically: a catalog on disk means every image it lists exists.
        do {
            try Data(catalog.utf8).write(to: URL(fileURLWithPath: catalogPath), options: .atomic)
        } catch {
            throw SynthError(.io, "cannot write \(catalogPath): \(error.localizedDescription)")
        }
        return SynthSummary(
            images: plan.count, labelCounts: counts, bytes: bytes.value,
            seconds: Date().timeIntervalSince(start))
    }
}

/// Errors from worker threads, keyed by image index so the first one reported is deterministic.
private final class FailureLog: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Int: SynthError] = [:]

    func record(_ index: Int, _ error: SynthError) {
        lock.lock()
        errors[index] = error
        lock.unlock()
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return errors.count
    }

    var first: SynthError? {
        lock.lock()
        defer { lock.unlock() }
        return errors.keys.min().flatMap { errors[$0] }
    }
}

private final class ByteCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0

    func add(_ n: Int) {
        lock.lock()
        total += n
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return total
    }
}
