import ArgumentParser
import Foundation
import GalaxyCore
import GalaxyPostgres
import GalaxyService

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "Bulk-load JPEGs into galaxy.images.",
        discussion: """
            Loads DIR/images/*.jpg and DIR/*.jpg (as written by 'galaxy synth') with binary COPY, reading
            files in parallel with loading. With a catalog (DIR/catalog.csv by default; columns
            id,specobjid,label; RFC 4180 CSV, so quote values with commas) each image <id>.jpg gets its
            specobjid and label. A label is one of the model labels, a class, or a set such as Sa|Sb
            (the 13 Galaxy Zoo labels unless --labels gives others); a catalog with an unknown label
            is refused, naming the line, before anything is loaded. Resumable: images whose
            file name or specobjid is already in galaxy.images are skipped, so rerunning after an
            interruption loads only the rest. Files that are not JPEGs or cannot be read are reported
            and skipped. Every inserted image is queued for scoring by the database.
            """)

    @Argument(help: "The folder with the JPEG files (or an images/ folder and catalog.csv).")
    var directory: String

    @Option(help: "Catalog CSV with columns id,specobjid,label (default: DIR/catalog.csv when present).")
    var catalog: String?

    @Option(
        help: ArgumentHelp(
            "Label vocabulary catalog labels must fit: label=Class pairs or bare labels, comma-separated (default: the 13 Galaxy Zoo labels).",
            valueName: "spec"))
    var labels: String?

    @Option(help: "PostgreSQL connection URL or key=value string (default: DATABASE_URL, then libpq's PG* variables).")
    var database: String?

    @Option(help: "Images per COPY transaction; an interruption loses at most one batch.")
    var batchSize = 2_000

    @Option(help: "Reader threads (default: all cores, or GALAXY_THREADS).")
    var threads = WorkerPool.defaultThreadCount

    @Option(help: "Connections loading at once.")
    var loaders = 2

    @Flag(help: "No progress bar.")
    var quiet = false

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("Please give a --batch-size of at least 1.") }
        guard threads >= 1 else { throw ValidationError("Please give --threads of at least 1.") }
        guard loaders >= 1 else { throw ValidationError("Please give --loaders of at least 1.") }
        _ = try labelVocabulary()
    }

    /// The `--labels` vocabulary, or the standard one.
    func labelVocabulary() throws -> LabelVocabulary {
        guard let labels else { return .standard }
        do { return try LabelVocabulary(spec: labels) } catch {
            throw ValidationError("--labels: \(error); e.g. --labels elliptical=Elliptical,spiral=Spiral,merger=Ambiguous")
        }
    }

    func run() async throws {
        var options = IngestOptions()
        options.batchRows = batchSize
        options.readerThreads = threads
        options.loaders = loaders
        let (directory, catalog, database, quiet, settings) = (self.directory, self.catalog, self.database, self.quiet, options)
        let vocabulary = try labelVocabulary()
        let summary = try await DedicatedThread.run(name: "galaxy.ingest") { () throws -> IngestSummary in
            let source = try IngestSource.scan(directory: directory, catalog: catalog, vocabulary: vocabulary)
            let connection = try PostgresConnection(conninfo: database)
            let ingester = Ingester(
                connection: connection, connect: { try PostgresConnection(conninfo: database) }, options: settings)
            let state = ProgressState()
            return try ingester.run(
                source,
                progress: { done, total, bad in
                    if quiet { return }
                    let bar = state.bar(total: total)
                    let (delta, deltaBad) = state.advance(done: done, bad: bad)
                    if delta > 0 { bar.advance(by: delta, failed: deltaBad) }
                    if done == total && delta > 0 && isatty(FileHandle.standardError.fileDescriptor) != 0 {
                        FileHandle.standardError.write(Data("\n".utf8))
                    }
                },
                onBadFile: { file in
                    FileHandle.standardError.write(Data("\nskipped \(file.path): \(file.reason)\n".utf8))
                })
        }
        print(Self.render(summary))
    }

    static func render(_ s: IngestSummary) -> String {
        var lines = [
            String(
                format: "ingested %d images (%.1f MB) in %.1f s: %.0f images/s", s.ingested, Double(s.bytes) / 1e6, s.seconds,
                s.rate)
        ]
        var skipped = ["\(s.found) JPEG files found", "\(s.alreadyPresent) already present"]
        if s.conflicts > 0 { skipped.append("\(s.conflicts) skipped as duplicates") }
        skipped.append("\(s.badFiles.count) bad")
        lines.append(skipped.joined(separator: ", "))
        for bad in s.badFiles.prefix(20) { lines.append("  bad: \(bad.path): \(bad.reason)") }
        if s.badFiles.count > 20 { lines.append("  ... and \(s.badFiles.count - 20) more (listed above)") }
        return lines.joined(separator: "\n")
    }
}

/// The progress bar is created once the number of files to load is known.
private final class ProgressState: @unchecked Sendable {
    private var progressBar: ProgressBar?
    private var done = 0
    private var bad = 0

    func bar(total: Int) -> ProgressBar {
        if let progressBar { return progressBar }
        let made = ProgressBar(title: "ingest", total: total)
        progressBar = made
        return made
    }

    func advance(done newDone: Int, bad newBad: Int) -> (Int, Int) {
        defer {
            done = newDone
            bad = newBad
        }
        return (newDone - done, newBad - bad)
    }
}
