import Foundation
import GalaxyCore
import GalaxyImage
import GalaxyPostgres
import Logging

/// Settings of one ingest run.
public struct IngestOptions: Sendable {
    /// Rows per COPY (one transaction each): what an interruption can lose and a rerun redoes.
    public var batchRows = 2_000
    /// Files one reader thread reads and encodes at a time.
    public var chunkFiles = 64
    /// Threads reading and encoding files while the loaders send to PostgreSQL.
    public var readerThreads = WorkerPool.defaultThreadCount
    /// Connections loading batches at once (each batch is its own COPY and transaction), so the
    /// server's share of the work (TOAST, checksums, indexes, WAL) uses more than one core.
    /// Needs a `connect` function in `Ingester.init`; with only a connection, one loader runs.
    public var loaders = 2
    /// Commit batches without waiting for the WAL flush (`synchronous_commit = off` in the ingest
    /// sessions). A server crash can then lose the last batches, which a rerun loads again.
    public var asynchronousCommit = true

    public init() {}
}

/// A file that was skipped, and why.
public struct IngestBadFile: Sendable, Hashable {
    public var name: String
    public var path: String
    public var reason: String
}

/// What an ingest run did.
public struct IngestSummary: Sendable {
    /// JPEG files found.
    public var found = 0
    /// Images inserted into `galaxy.images`.
    public var ingested = 0
    /// JPEG bytes read from good files.
    public var bytes = 0
    /// Skipped before reading: a row with the same file name or specobjid exists.
    public var alreadyPresent = 0
    /// Skipped at insert: another row with the same file name or specobjid appeared meanwhile (or the
    /// catalog gives two files one specobjid).
    public var conflicts = 0
    /// Files that were not JPEGs or could not be read.
    public var badFiles: [IngestBadFile] = []
    /// Wall time in seconds.
    public var seconds = 0.0

    /// Inserted images per second.
    public var rate: Double { Double(ingested) / max(seconds, 1e-9) }
}

/// Bulk-loads JPEG files into `galaxy.images` with binary COPY: reader threads read, check and
/// encode files while the calling thread streams them to PostgreSQL in batches, each its own
/// transaction. Resumable: files whose name or specobjid is already present are not read again.
/// Blocking: call it from a dedicated thread.
public final class Ingester: Sendable {
    private let connection: PostgresConnection
    private let connect: (@Sendable () throws -> PostgresConnection)?
    private let options: IngestOptions
    private let logger: Logger

    static let columns = "file_name, specobjid, label, jpeg"

    /// - Parameters:
    ///   - connection: the connection that checks the schema, filters present files and loads.
    ///   - connect: opens further connections for `options.loaders` > 1.
    public init(
        connection: PostgresConnection, connect: (@Sendable () throws -> PostgresConnection)? = nil,
        options: IngestOptions = IngestOptions(), logger: Logger = Logger(label: "galaxy.ingest")
    ) {
        self.connection = connection
        self.connect = connect
        self.options = options
        self.logger = logger
    }

    /// Ingests `source`.
    /// - Parameters:
    ///   - progress: called from the loader thread after every committed batch with (files handled,
    ///     files to handle, bad files among them).
    ///   - onBadFile: called as soon as a bad file is found (from a reader thread).
    /// - Throws: `IngestError.schemaMissing`, or `PostgresError` when the database fails (batches
    ///   committed before stay; a rerun continues after them).
    public func run(
        _ source: IngestSource, progress: ((_ done: Int, _ total: Int, _ bad: Int) -> Void)? = nil,
        onBadFile: (@Sendable (IngestBadFile) -> Void)? = nil
    ) throws -> IngestSummary {
        let start = Date()
        var summary = IngestSummary()
        summary.found = source.files.count
        guard try connection.query("select to_regclass('galaxy.images') is not null").scalar(Bool.self) else {
            throw IngestError.schemaMissing(connection.target)
        }
        let todo = try filterPresent(source.files)
        summary.alreadyPresent = source.files.count - todo.count
        logger.debug("ingest plan", metadata: ["ingest.found": "\(source.files.count)", "ingest.todo": "\(todo.count)"])

        progress?(0, todo.count, 0)
        let chunkSize = max(1, options.chunkFiles)
        let chunkCount = (todo.count + chunkSize - 1) / chunkSize
        let queue = ChunkQueue(capacity: max(4, 2 * options.readerThreads))
        let bad = BadFileList()
        let readers = Thread { [options] in
            WorkerPool.forEach(chunkCount, threads: max(1, options.readerThreads)) { _, index in
                if queue.isClosed { return }
                let files = todo[(index * chunkSize)..<min(todo.count, (index + 1) * chunkSize)]
                let chunk = Self.readChunk(files, onBadFile: { file in
                    bad.append(file)
                    onBadFile?(file)
                })
                queue.push(chunk)
            }
            queue.finishProducing()
        }
        readers.stackSize = 1 << 20
        readers.start()
        defer {
            // On error the readers stop at their next chunk; wait so none outlives the run.
            queue.close()
            queue.waitUntilProducersFinished()
        }

        var connections = [connection]
        if let connect, options.loaders > 1 {
            for _ in 1..<options.loaders { connections.append(try connect()) }
        }
        if options.asynchronousCommit {
            for c in connections { try c.execute("set synchronous_commit = off") }
        }
        let tally = LoadTally(total: todo.count, progress: progress)
        let failures = BadFileList.Errors()
        let group = DispatchGroup()
        for extra in connections.dropFirst() {
            group.enter()
            let thread = Thread { [self] in
                do {
                    try self.loadBatches(from: queue, on: extra, into: tally)
                } catch {
                    failures.append(error)
                    queue.close()
                }
                group.leave()
            }
            thread.start()
        }
        do {
            try loadBatches(from: queue, on: connection, into: tally)
        } catch {
            failures.append(error)
            queue.close()
        }
        group.wait()
        if let first = failures.first { throw first }
        summary.ingested = tally.ingested
        summary.conflicts = tally.conflicts
        summary.bytes = tally.bytes
        summary.badFiles = bad.sorted()
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    /// Takes chunks from `queue` and loads them in batches of `options.batchRows` rows, one COPY
    /// (and transaction) per batch, until the readers are done.
    func loadBatches(from queue: ChunkQueue, on connection: PostgresConnection, into tally: LoadTally) throws {
        while let first = queue.pop() {
            var batch = [first]
            var rows = first.rows
            var inserted = 0
            if first.rows > 0 {
                do {
                    try connection.copyIn("copy galaxy.images (\(unsafeSQL: Self.columns)) from stdin (format binary)") { copy in
                        var header = PostgresBinaryCopyEncoder(reservingCapacity: 32)
                        try copy.send(&header)
                        try copy.send(first.bytes)
                        while rows < options.batchRows, let next = queue.pop() {
                            batch.append(next)
                            rows += next.rows
                            if next.rows > 0 { try copy.send(next.bytes) }
                        }
                    }
                    inserted = rows
                } catch let error as PostgresError where error.sqlState == PostgresError.Code.uniqueViolation {
                    // Someone else inserted some of these meanwhile, or the catalog repeats a
                    // specobjid: load the batch again, skipping the rows that conflict.
                    inserted = try loadSkippingConflicts(batch, on: connection)
                    logger.debug("batch had conflicts", metadata: ["ingest.rows": "\(rows)", "ingest.inserted": "\(inserted)"])
                }
            }
            tally.add(batch: batch, rows: rows, inserted: inserted)
        }
    }

    /// Runs one batch through a temporary table and `INSERT ... ON CONFLICT DO NOTHING`, for
    /// batches where a plain COPY hit a unique violation. Returns the rows inserted.
    func loadSkippingConflicts(_ batch: [EncodedChunk], on connection: PostgresConnection) throws -> Int {
        try connection.transaction { tx in
            try tx.execute(
                "create temp table if not exists galaxy_ingest_staging (file_name text, specobjid bigint, label text, jpeg bytea) on commit delete rows"
            )
            try tx.copyIn("copy galaxy_ingest_staging (\(unsafeSQL: Self.columns)) from stdin (format binary)") { copy in
                var header = PostgresBinaryCopyEncoder(reservingCapacity: 32)
                try copy.send(&header)
                for chunk in batch where chunk.rows > 0 { try copy.send(chunk.bytes) }
            }
            return try tx.execute(
                "insert into galaxy.images (\(unsafeSQL: Self.columns)) select \(unsafeSQL: Self.columns) from galaxy_ingest_staging on conflict do nothing"
            )
        }
    }

    /// The files whose name and specobjid are not in `galaxy.images` yet.
    func filterPresent(_ files: [IngestFile]) throws -> [IngestFile] {
        var presentNames = Set<String>()
        var presentIds = Set<Int64>()
        let step = 10_000
        for start in stride(from: 0, to: files.count, by: step) {
            let slice = files[start..<min(files.count, start + step)]
            let names = slice.map(\.name)
            let ids = slice.compactMap(\.specobjid)
            for row in try connection.query(
                "select file_name, specobjid from galaxy.images where file_name = any(\(names)) or specobjid = any(\(ids))")
            {
                if let name = try row.decode(String?.self, at: 0) { presentNames.insert(name) }
                if let id = try row.decode(Int64?.self, at: 1) { presentIds.insert(id) }
            }
        }
        return files.filter { !presentNames.contains($0.name) && !($0.specobjid.map(presentIds.contains) ?? false) }
    }

    /// Reads and checks a run of files and encodes the good ones as binary COPY rows.
    static func readChunk(_ files: ArraySlice<IngestFile>, onBadFile: (IngestBadFile) -> Void) -> EncodedChunk {
        var encoder = PostgresBinaryCopyEncoder(reservingCapacity: files.count * 40_000, includeHeader: false)
        var chunk = EncodedChunk()
        let validator = JPEGValidator()
        for file in files {
            chunk.files += 1
            switch readJPEG(file.path, validator: validator) {
            case .failure(let reason):
                chunk.bad += 1
                onBadFile(IngestBadFile(name: file.name, path: file.path, reason: reason.message))
            case .success(let bytes):
                encoder.beginRow(fieldCount: 4)
                encoder.append(text: file.name)
                encoder.append(int64: file.specobjid)
                encoder.append(text: file.label)
                encoder.append(bytes: bytes)
                chunk.rows += 1
                chunk.jpegBytes += bytes.count
            }
        }
        chunk.bytes = encoder.takeBytes()
        return chunk
    }

    struct ReadFailure: Error { var message: String }

    /// The file's bytes if it can be read and the one JPEG validator accepts its markers,
    /// headers and size (the scorer decodes it later; damaged image data fails that job alone).
    static func readJPEG(_ path: String, validator: JPEGValidator) -> Result<[UInt8], ReadFailure> {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return .failure(ReadFailure(message: "cannot open: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(ReadFailure(message: "cannot stat: \(String(cString: strerror(errno)))")) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .failure(ReadFailure(message: "not a regular file")) }
        let size = Int(info.st_size)
        guard size > 0 else { return .failure(ReadFailure(message: "empty file, not a JPEG")) }
        var readError: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var offset = 0
            while offset < size {
                let n = read(fd, buffer.baseAddress! + offset, size - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    readError = errno
                    break
                }
                if n == 0 { break }
                offset += n
            }
            count = offset
        }
        if readError != 0 { return .failure(ReadFailure(message: "cannot read: \(String(cString: strerror(readError)))")) }
        do {
            try validator.validate(bytes)
        } catch {
            return .failure(ReadFailure(message: "\(error)"))
        }
        return .success(bytes)
    }
}

/// Encoded rows of one run of files.
struct EncodedChunk: Sendable {
    var bytes: [UInt8] = []
    var rows = 0
    var files = 0
    var bad = 0
    var jpegBytes = 0
}

/// Bad files found by the reader threads.
final class BadFileList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [IngestBadFile] = []
    func append(_ item: IngestBadFile) { lock.withLock { items.append(item) } }
    func sorted() -> [IngestBadFile] { lock.withLock { items.sorted { $0.name < $1.name } } }
}

/// Counts of the loaders together; reports progress after each batch.
final class LoadTally: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private let progress: ((_ done: Int, _ total: Int, _ bad: Int) -> Void)?
    private(set) var ingested = 0
    private(set) var conflicts = 0
    private(set) var bytes = 0
    private var handled = 0
    private var bad = 0

    init(total: Int, progress: ((_ done: Int, _ total: Int, _ bad: Int) -> Void)?) {
        self.total = total
        self.progress = progress
    }

    func add(batch: [EncodedChunk], rows: Int, inserted: Int) {
        lock.withLock {
            ingested += inserted
            conflicts += rows - inserted
            bytes += batch.reduce(0) { $0 + $1.jpegBytes }
            handled += batch.reduce(0) { $0 + $1.files }
            bad += batch.reduce(0) { $0 + $1.bad }
            progress?(handled, total, bad)
        }
    }
}

extension BadFileList {
    /// Errors of the loader threads; the first one is rethrown.
    final class Errors: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [any Error] = []
        func append(_ error: any Error) { lock.withLock { items.append(error) } }
        var first: (any Error)? { lock.withLock { items.first } }
    }
}

/// A bounded hand-off from the reader threads to the loader: readers wait when it is full, so
/// memory stays bounded when the database is the slower side.
final class ChunkQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [EncodedChunk] = []
    private let capacity: Int
    private var producing = true
    private var closed = false

    init(capacity: Int) { self.capacity = capacity }

    var isClosed: Bool { condition.withLock { closed } }

    /// Whether more chunks may still come.
    var hasMore: Bool { condition.withLock { !items.isEmpty || producing } }

    func push(_ item: EncodedChunk) {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !closed { condition.wait() }
        if closed { return }
        items.append(item)
        condition.broadcast()
    }

    /// The next chunk, waiting for one; nil when the readers are done and the queue is empty.
    func pop() -> EncodedChunk? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && producing && !closed { condition.wait() }
        if items.isEmpty { return nil }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    func finishProducing() {
        condition.withLock {
            producing = false
            condition.broadcast()
        }
    }

    /// Stops the hand-off: readers drop what they push and stop taking chunks.
    func close() {
        condition.withLock {
            closed = true
            items.removeAll()
            condition.broadcast()
        }
    }

    func waitUntilProducersFinished() {
        condition.lock()
        while producing { condition.wait() }
        condition.unlock()
    }
}
