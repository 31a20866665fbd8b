import Foundation
import GalaxyCore
import GalaxyImage

/// One labelled JPEG as its catalog gives it: where it came from, its label text (and vote
/// fractions when the catalog has `p_<label>` columns) and its bytes. `target(using:)` reads the
/// label under a vocabulary.
public struct LabeledImage: Sendable {
    /// The image: a file path or a database row.
    public var source: String
    /// Where the label was read, for errors: `DIR/catalog.csv line 12`, `galaxy.images id 42`.
    public var origin: String
    /// The catalog's id of the image (the file name without extension when there is none).
    public var id: String
    /// The label text: a label, a class, or a set `Sa|Sb` (may be empty when probabilities are given).
    public var label: String
    /// Vote fractions by label name, from `p_<label>` columns; empty when the catalog has none.
    public var probabilities: [String: Float]
    public var jpeg: [UInt8]
    /// Which `--data` source the image came from (0 for the first).
    public var dataSource: Int

    public init(
        source: String, origin: String? = nil, id: String? = nil, label: String, probabilities: [String: Float] = [:],
        jpeg: [UInt8], dataSource: Int = 0
    ) {
        self.source = source
        self.origin = origin ?? source
        self.id = id ?? source
        self.label = label
        self.probabilities = probabilities
        self.jpeg = jpeg
        self.dataSource = dataSource
    }

    /// The training target under `parser`'s vocabulary: the probabilities when given, else the label.
    /// - Returns: nil for an unlabelled image.
    /// - Throws: `TrainingError.label` naming `origin` when the label or probabilities do not fit.
    public func target(using parser: TargetParser) throws(TrainingError) -> TrainingTarget? {
        do throws(TargetError) {
            if !probabilities.isEmpty {
                let vocabulary = parser.vocabulary
                if let stray = probabilities.keys.sorted().first(where: { vocabulary.index(of: $0) == nil }) {
                    throw TargetError.unknownLabel(stray, known: vocabulary)
                }
                return try parser.distribution(vocabulary.labels.map { probabilities[$0] ?? 0 })
            }
            return try parser.parse(label)
        } catch {
            throw .label(origin: origin, reason: error.description)
        }
    }
}

/// Loading labelled images, splitting them and preprocessing them once into float caches.
public enum TrainingData {
    /// Reads `catalog.csv` (columns `id` and `label`, optionally `file`) and the JPEGs in
    /// `images/` (`images/<id>.jpg` unless a `file` column names them) of a data set directory,
    /// as written by `galaxy synth`.
    /// - Throws: `TrainingError.catalog` naming the line, or `.image` naming a missing file.
    public static func loadDirectory(_ directory: URL) throws -> [LabeledImage] {
        let catalogURL = directory.appendingPathComponent("catalog.csv")
        let text: String
        do { text = try String(contentsOf: catalogURL, encoding: .utf8) } catch {
            throw TrainingError.catalog(path: catalogURL.path, line: nil, reason: "cannot read it (\(error.localizedDescription)); pass a directory written by `galaxy synth`")
        }
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).map(String.init)
        guard !lines.isEmpty else { throw TrainingError.catalog(path: catalogURL.path, line: nil, reason: "it is empty") }
        let header = splitCSV(lines.removeFirst()).map { $0.lowercased() }
        guard let idColumn = header.firstIndex(of: "id"), let labelColumn = header.firstIndex(of: "label") else {
            throw TrainingError.catalog(path: catalogURL.path, line: 1, reason: "the header needs `id` and `label` columns, found \(header)")
        }
        let fileColumn = header.firstIndex(where: { $0 == "file" || $0 == "file_name" || $0 == "path" })
        var images: [LabeledImage] = []
        images.reserveCapacity(lines.count)
        for (n, line) in lines.enumerated() {
            let fields = splitCSV(line)
            let lineNumber = n + 2
            guard fields.count > max(idColumn, labelColumn) else {
                throw TrainingError.catalog(path: catalogURL.path, line: lineNumber, reason: "expected \(header.count) fields, found \(fields.count)")
            }
            let label = fields[labelColumn]
            if label.isEmpty { continue }  // unlabelled rows do not train
            let relative: String
            if let fileColumn, fileColumn < fields.count, !fields[fileColumn].isEmpty {
                relative = fields[fileColumn]
            } else {
                relative = "images/\(fields[idColumn]).jpg"
            }
            let url = relative.hasPrefix("/") ? URL(fileURLWithPath: relative) : directory.appendingPathComponent(relative)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw TrainingError.image(path: url.path, reason: "listed on catalog line \(lineNumber) but cannot be read")
            }
            images.append(LabeledImage(source: url.path, origin: "\(catalogURL.path) line \(lineNumber)", id: fields[idColumn], label: label, jpeg: [UInt8](data)))
        }
        return images
    }

    private static func splitCSV(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var chars = Array(line).makeIterator()
        while let c = chars.next() {
            if quoted {
                if c == "\"" { quoted = false } else { current.append(c) }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current.trimmingCharacters(in: .whitespaces))
        return fields
    }

    /// A stratified train/test split: within every label, a seeded shuffle sends
    /// `round(testFraction * n)` images (at least one when the label has two or more) to the test set.
    public static func split(count: Int, labels: [Int], testFraction: Double, seed: UInt64) -> (train: [Int], test: [Int]) {
        var byLabel: [Int: [Int]] = [:]
        for i in 0..<count { byLabel[labels[i], default: []].append(i) }
        var rng = SeededGenerator(seed: seed).derived(0x5EED)
        var train: [Int] = []
        var test: [Int] = []
        for label in byLabel.keys.sorted() {
            var members = byLabel[label]!
            members.shuffle(using: &rng)
            var k = Int((testFraction * Double(members.count)).rounded())
            if testFraction > 0 && members.count >= 2 { k = max(k, 1) }
            k = min(k, members.count - (members.count >= 2 ? 1 : 0))
            test += members[0..<k]
            train += members[k...]
        }
        return (train.sorted(), test.sorted())
    }

    /// Preprocesses every image once per rotation with the engine's one preprocessing function,
    /// across `threads` workers, into a sample set (image-major: all rotations of image 0 first).
    /// Images that fail to decode are skipped and returned with their error.
    public static func preprocess(
        _ images: [LabeledImage], labelIndices: [Int32], rotations: [Double], options: PreprocessOptions,
        threads: Int, title: String, showProgress: Bool
    ) -> (set: SampleSet, failures: [(source: String, error: ImageError)]) {
        let sampleSize = options.floatCount
        let perImage = rotations.count
        var features = [Float](repeating: 0, count: images.count * perImage * sampleSize)
        let ok = UnsafeMutableBufferPointer<Bool>.allocate(capacity: max(images.count, 1))
        ok.initialize(repeating: false)
        defer { ok.deallocate() }
        let errors = ErrorList()
        let bar = showProgress ? ProgressBar(title: title, total: images.count) : nil
        let workers = max(1, min(threads, images.count))
        let preprocessors = (0..<workers).map { _ in Unchecked(Preprocessor(options: options)) }
        features.withUnsafeMutableBufferPointer { out in
            let box = Unchecked((out.baseAddress!, ok))
            WorkerPool.forEach(images.count, threads: workers) { worker, i in
                let (base, ok) = box.value
                let preprocessor = preprocessors[worker].value
                do throws(ImageError) {
                    for (r, degrees) in rotations.enumerated() {
                        let tensor = try preprocessor.preprocess(jpeg: images[i].jpeg, rotationDegrees: degrees)
                        (base + (i * perImage + r) * sampleSize).update(from: tensor, count: sampleSize)
                    }
                    ok[i] = true
                    bar?.advance()
                } catch {
                    errors.append(images[i].source, error)
                    bar?.advance(failed: 1)
                }
            }
        }
        bar?.finish()
        var set = SampleSet(sampleSize: sampleSize)
        set.reserveCapacity(images.count * perImage)
        var kept: [Float] = []
        kept.reserveCapacity(features.count)
        var labels: [Int32] = []
        var sources: [Int] = []
        for i in 0..<images.count where ok[i] {
            kept.append(contentsOf: features[(i * perImage * sampleSize)..<((i + 1) * perImage * sampleSize)])
            for _ in 0..<perImage {
                labels.append(labelIndices[i])
                sources.append(i)
            }
        }
        set = SampleSet(sampleSize: sampleSize, features: kept, labels: labels, sourceIndices: sources)
        return (set, errors.items)
    }
}

/// Failures collected from worker threads.
private final class ErrorList: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var items: [(source: String, error: ImageError)] = []

    func append(_ source: String, _ error: ImageError) {
        lock.lock()
        items.append((source, error))
        lock.unlock()
    }
}
