import Foundation
import GalaxyCore

/// The `galaxy preprocess` step as a library: preprocesses JPEG files in parallel (one
/// `Preprocessor` per worker thread) and writes what the model sees, per rotation angle, to
/// `<output>/<angle>/<relative path>.png` (or `.f32`: raw little-endian float32, NCHW).
/// A file that cannot be read, decoded or written is recorded and skipped.
public struct PreprocessFiles: Sendable {
    /// How each preprocessed image is written.
    public enum Format: String, Sendable, CaseIterable {
        /// 8-bit RGB PNG of the `size x size` input, for looking at.
        case png
        /// The float tensor itself (3 * size * size little-endian float32, R, G, B planes),
        /// including `mean`/`std` when set, for training elsewhere.
        case f32
    }

    /// A file that failed, and why.
    public struct Failure: Sendable, CustomStringConvertible {
        public var file: String
        public var reason: String
        public var description: String { "\(file): \(reason)" }
    }

    /// What a run did.
    public struct Summary: Sendable {
        public var files: Int
        public var written: Int
        public var failures: [Failure]
        public var seconds: Double
    }

    public var files: [URL]
    /// Paths below this directory keep their subdirectories in the output.
    public var inputRoot: URL?
    public var outputDirectory: URL
    public var angles: [Double]
    public var options: PreprocessOptions
    public var format: Format
    public var threads: Int

    public init(
        files: [URL], inputRoot: URL?, outputDirectory: URL, angles: [Double] = [0],
        options: PreprocessOptions = PreprocessOptions(), format: Format = .png,
        threads: Int = WorkerPool.defaultThreadCount
    ) {
        self.files = files
        self.inputRoot = inputRoot
        self.outputDirectory = outputDirectory
        self.angles = angles
        self.options = options
        self.format = format
        self.threads = threads
    }

    /// The JPEG files (`.jpg`, `.jpeg`, any case) at `path`: the file itself, or every one below
    /// the directory, sorted.
    public static func jpegFiles(at path: URL) throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw ImageError(.empty, "\(path.path) does not exist")
        }
        guard isDirectory.boolValue else { return [path] }
        var found: [URL] = []
        let enumerator = FileManager.default.enumerator(
            at: path, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            let ext = url.pathExtension.lowercased()
            if ext == "jpg" || ext == "jpeg" { found.append(url) }
        }
        return found.sorted { $0.path < $1.path }
    }

    /// The directory name of an angle: "0", "45", "22.5".
    public static func angleName(_ degrees: Double) -> String {
        degrees == degrees.rounded() ? String(Int(degrees)) : String(degrees)
    }

    /// Where the output for `file` at `angle` goes.
    public func outputURL(for file: URL, angle: Double) -> URL {
        var relative = file.lastPathComponent
        if let root = inputRoot?.standardizedFileURL.path, file.standardizedFileURL.path.hasPrefix(root + "/")
        {
            relative = String(file.standardizedFileURL.path.dropFirst(root.count + 1))
        }
        let base = (relative as NSString).deletingPathExtension + "." + format.rawValue
        return outputDirectory.appendingPathComponent(Self.angleName(angle)).appendingPathComponent(base)
    }

    /// Runs over all files, advancing `progress` per file.
    public func run(progress: ProgressBar? = nil) -> Summary {
        let start = Date()
        let workers = max(1, min(threads, files.count))
        let state = RunState(preprocessors: (0..<workers).map { _ in Preprocessor(options: options) })
        let job = self
        WorkerPool.forEach(files.count, threads: workers) { worker, index in
            let file = job.files[index]
            let failure = job.process(file, with: state.preprocessors[worker])
            state.record(written: failure == nil ? job.angles.count : 0, failure: failure)
            progress?.advance(by: 1, failed: failure == nil ? 0 : 1)
        }
        progress?.finish()
        let failures = state.failures.sorted { $0.file < $1.file }
        return Summary(
            files: files.count, written: state.written, failures: failures,
            seconds: Date().timeIntervalSince(start))
    }

    private func process(_ file: URL, with preprocessor: Preprocessor) -> Failure? {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: file))
        } catch {
            return Failure(file: file.path, reason: "cannot read: \(error.localizedDescription)")
        }
        // One decode serves every angle.
        var encoded: [[UInt8]] = []
        do {
            switch format {
            case .png:
                encoded = try preprocessor.preprocessedRGB(jpeg: bytes, rotations: angles).map {
                    PNGEncoder.encode(rgb: $0.pixels, width: $0.width, height: $0.height)
                }
            case .f32:
                let floats = try preprocessor.preprocess(jpeg: bytes, rotations: angles)
                let count = options.floatCount
                encoded = angles.indices.map { index in
                    // little-endian on every platform we run on
                    floats[(index * count)..<((index + 1) * count)].withUnsafeBytes { Array($0) }
                }
            }
        } catch {
            return Failure(file: file.path, reason: error.description)
        }
        for (angle, data) in zip(angles, encoded) {
            let target = outputURL(for: file, angle: angle)
            do {
                try FileManager.default.createDirectory(
                    at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(data).write(to: target)
            } catch {
                return Failure(
                    file: file.path, reason: "cannot write \(target.path): \(error.localizedDescription)")
            }
        }
        return nil
    }
}

/// Per-run state shared by the worker threads. Each worker uses only its own preprocessor
/// (WorkerPool's worker index is stable per thread); the counters are behind a lock.
private final class RunState: @unchecked Sendable {
    let preprocessors: [Preprocessor]
    private let lock = NSLock()
    private var writtenCount = 0
    private var failureList: [PreprocessFiles.Failure] = []

    init(preprocessors: [Preprocessor]) { self.preprocessors = preprocessors }

    func record(written: Int, failure: PreprocessFiles.Failure?) {
        lock.lock()
        writtenCount += written
        if let failure { failureList.append(failure) }
        lock.unlock()
    }

    var written: Int { lock.lock(); defer { lock.unlock() }; return writtenCount }
    var failures: [PreprocessFiles.Failure] { lock.lock(); defer { lock.unlock() }; return failureList }
}
