import Foundation
import GalaxyCore
import GalaxyImage
import GalaxyPostgres
import GalaxyService
import GalaxyTestSupport
import Testing

@Suite("galaxy ingest")
struct IngestTests {
    /// A folder with `count` small real JPEGs in images/ and a catalog.
    static func makeDataSet(count: Int, firstID: Int = 1000) throws -> String {
        let dir = NSTemporaryDirectory() + "/galaxy-ingest-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
        var catalog = "id,specobjid,label\n"
        for i in 0..<count {
            let id = firstID + i
            let rgb = (0..<(16 * 16 * 3)).map { UInt8(truncatingIfNeeded: $0 * 7 + i) }
            let jpeg = try JPEGEncoder.encode(rgb: rgb, width: 16, height: 16, quality: 90)
            try Data(jpeg).write(to: URL(fileURLWithPath: "\(dir)/images/\(id).jpg"))
            catalog += "\(id),\(880_000_000_000 + id),\(["Sa", "Ei", "SBb"][i % 3])\n"
        }
        try Data(catalog.utf8).write(to: URL(fileURLWithPath: dir + "/catalog.csv"))
        return dir
    }

    static func migratedDatabase() throws -> (url: String, db: PostgresConnection) {
        let url = try PostgresCluster.shared().createDatabase(prefix: "ingest")
        let db = try PostgresConnection(conninfo: url)
        try Migrator().migrate(db)
        return (url, db)
    }

    /// Ingest refuses what the web API and the scorer refuse, with the same words.
    @Test func aCutShortOrOversizedJPEGIsRefusedByTheOneValidator() throws {
        let dir = try Self.makeDataSet(count: 3)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let whole = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/images/1000.jpg")))
        try Data(whole.prefix(whole.count - 30)).write(to: URL(fileURLWithPath: dir + "/images/cut.jpg"))
        let (_, db) = try Self.migratedDatabase()
        var options = IngestOptions()
        options.chunkFiles = 2
        let summary = try Ingester(connection: db, options: options).run(IngestSource.scan(directory: dir))
        #expect(summary.ingested == 3)
        #expect(summary.badFiles.map(\.name) == ["cut.jpg"])
        let reason = try #require(summary.badFiles.first?.reason)
        let expected = try? JPEGValidator().validate(Array(whole.prefix(whole.count - 30)))
        #expect(expected == nil)
        #expect(reason.hasPrefix("truncated: ") && reason.contains("end-of-image marker"), "\(reason)")
    }

    @Test func badFilesAreReportedAndSkippedWhileGoodOnesLoad() throws {
        let dir = try Self.makeDataSet(count: 40)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/images/png-in-disguise.jpg"))
        try Data().write(to: URL(fileURLWithPath: dir + "/images/empty.jpg"))
        try FileManager.default.createDirectory(atPath: dir + "/images/folder.jpg", withIntermediateDirectories: true)
        // An image directly in DIR (no catalog entry) is taken too.
        try Data(try JPEGEncoder.encode(rgb: [UInt8](repeating: 9, count: 8 * 8 * 3), width: 8, height: 8, quality: 80))
            .write(to: URL(fileURLWithPath: dir + "/loose.jpg"))
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))

        let (_, db) = try Self.migratedDatabase()
        var options = IngestOptions()
        options.batchRows = 7
        options.chunkFiles = 3
        let reported = BadNames()
        let summary = try Ingester(connection: db, options: options).run(
            IngestSource.scan(directory: dir), onBadFile: { reported.add($0.name) })

        #expect(summary.found == 44)
        #expect(summary.ingested == 41)
        #expect(summary.badFiles.map(\.name) == ["empty.jpg", "folder.jpg", "png-in-disguise.jpg"])
        #expect(reported.sorted == ["empty.jpg", "folder.jpg", "png-in-disguise.jpg"])
        #expect(summary.badFiles.first { $0.name == "png-in-disguise.jpg" }?.reason.contains("not with the JPEG marker ff d8 ff") == true)
        let row = try db.query(
            "select count(*), count(specobjid), count(label), count(*) filter (where label = 'Ei'), min(file_name) from galaxy.images")[0]
        #expect(try row.decode(Int.self, at: 0) == 41)
        #expect(try row.decode(Int.self, at: 1) == 40)
        #expect(try row.decode(Int.self, at: 2) == 40)
        #expect(try row.decode(Int.self, at: 3) == 13)
        #expect(try row.decode(String.self, at: 4) == "1000.jpg")
        // Bytes arrive unchanged.
        let stored = try db.query("select jpeg from galaxy.images where file_name = '1007.jpg'").scalar([UInt8].self)
        #expect(stored == Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/images/1007.jpg"))))
        // Every image was queued for scoring by the database.
        #expect(try db.query("select count(*) from galaxy.queue").scalar(Int.self) == 41)
    }

    @Test func rerunAfterASubsetLoadsOnlyTheRest() throws {
        let dir = try Self.makeDataSet(count: 30)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (_, db) = try Self.migratedDatabase()
        let all = try IngestSource.scan(directory: dir)
        var subset = all
        subset.files = Array(all.files.prefix(12))
        let first = try Ingester(connection: db).run(subset)
        #expect(first.ingested == 12)
        var twoLoaders = IngestOptions()
        twoLoaders.loaders = 2
        twoLoaders.batchRows = 4
        twoLoaders.chunkFiles = 2
        let url = db.conninfo(forDatabase: db.parameters.database)
        let second = try Ingester(connection: db, connect: { try PostgresConnection(conninfo: url) }, options: twoLoaders).run(all)
        #expect(second.alreadyPresent == 12)
        #expect(second.ingested == 18)
        let third = try Ingester(connection: db).run(all)
        #expect(third.ingested == 0 && third.alreadyPresent == 30)
        #expect(try db.query("select count(*), count(distinct file_name) from galaxy.images")[0].decode(Int.self, at: 1) == 30)
    }

    @Test func knownSpecobjidUnderAnotherNameIsSkipped() throws {
        let dir = try Self.makeDataSet(count: 5)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (_, db) = try Self.migratedDatabase()
        try db.execute("insert into galaxy.images (file_name, specobjid, jpeg) values ('renamed.jpg', 880000001002, '\\xffd8ff')")
        let summary = try Ingester(connection: db).run(IngestSource.scan(directory: dir))
        #expect(summary.alreadyPresent == 1)
        #expect(summary.ingested == 4)
    }

    @Test func conflictsInsideABatchFallBackToSkippingTheDuplicates() throws {
        let dir = try Self.makeDataSet(count: 10)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The catalog gives two files the same specobjid: the COPY fails, the fallback keeps one.
        var catalog = try String(contentsOfFile: dir + "/catalog.csv", encoding: .utf8)
        catalog = catalog.replacingOccurrences(of: "1005,880000001005", with: "1005,880000001004")
        try Data(catalog.utf8).write(to: URL(fileURLWithPath: dir + "/catalog.csv"))
        let (_, db) = try Self.migratedDatabase()
        let summary = try Ingester(connection: db).run(IngestSource.scan(directory: dir))
        #expect(summary.ingested == 9)
        #expect(summary.conflicts == 1)
        #expect(try db.query("select count(*) from galaxy.images").scalar(Int.self) == 9)
    }

    @Test func killedRunResumesWithEveryImageExactlyOnce() throws {
        let galaxy = try BuiltProducts.galaxy()
        let dir = try Self.makeDataSet(count: 600)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (url, db) = try Self.migratedDatabase()
        let run = try ChildProcess(
            executable: galaxy, arguments: ["ingest", dir, "--database", url, "--batch-size", "20", "--threads", "1", "--quiet"])
        // Kill it once some batches are committed (if it finishes first, the rerun has nothing to do).
        _ = try waitUntil(timeout: 120) {
            try db.query("select count(*) from galaxy.images").scalar(Int.self) >= 40 || !run.isRunning
        }
        run.send(signal: SIGKILL)
        _ = run.wait(timeout: 60)
        // The server may still be finishing a COMMIT the killed client sent: count only once its
        // sessions are gone.
        _ = try waitUntil(timeout: 60) {
            try db.query(
                "select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
            ).scalar(Int.self) == 0
        }
        let loadedBefore = try db.query("select count(*) from galaxy.images").scalar(Int.self)
        #expect(loadedBefore >= 40)

        let rerun = try ChildProcess.run(galaxy, ["ingest", dir, "--database", url, "--quiet"])
        #expect(rerun.status == 0, "\(rerun.error)")
        #expect(rerun.output.contains("\(loadedBefore) already present"), "\(rerun.output)")
        let counts = try db.query("select count(*), count(distinct file_name), count(distinct specobjid) from galaxy.images")[0]
        #expect(try counts.decode(Int.self, at: 0) == 600)
        #expect(try counts.decode(Int.self, at: 1) == 600)
        #expect(try counts.decode(Int.self, at: 2) == 600)
    }

    @Test func catalogWithoutIdColumnIsRefusedClearly() throws {
        let dir = try Self.makeDataSet(count: 1)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("name,label\nx,Sa\n".utf8).write(to: URL(fileURLWithPath: dir + "/catalog.csv"))
        let error = #expect(throws: IngestError.self) { try IngestSource.scan(directory: dir) }
        #expect(error.map { "\($0)" }?.contains("no 'id' column") == true)
        #expect(throws: IngestError.self) { try IngestSource.scan(directory: dir + "/missing") }
    }

    @Test func quotedFieldsAreReadWholeAndLabelsStoredAsWritten() throws {
        let dir = try Self.makeDataSet(count: 3)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A quoted comma before specobjid would have shifted every later column when split on commas.
        let catalog = "id,comment,specobjid,label\r\n"
            + "1000,\"bright, \"\"fuzzy\"\"\",880000001000,\"Sa|Sb\"\r\n"
            + "1001,\"two\r\nlines\",880000001001,Spiral\r\n"
            + "1002,,880000001002,\"SBb\"\r\n"
        try Data(catalog.utf8).write(to: URL(fileURLWithPath: dir + "/catalog.csv"))
        let source = try IngestSource.scan(directory: dir)
        #expect(source.files.map(\.label) == ["Sa|Sb", "Spiral", "SBb"])
        #expect(source.files.map(\.specobjid) == [880_000_001_000, 880_000_001_001, 880_000_001_002])
        let (_, db) = try Self.migratedDatabase()
        #expect(try Ingester(connection: db).run(source).ingested == 3)
        let labels = try db.query("select label from galaxy.images order by file_name").map { try $0.decode(String.self, at: 0) }
        #expect(labels == ["Sa|Sb", "Spiral", "SBb"])
    }

    @Test func unknownLabelRefusesTheCatalogNamingFileAndLine() throws {
        let dir = try Self.makeDataSet(count: 3)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/catalog.csv"
        try Data("id,specobjid,label\n1000,1,Sa\n1001,2,\"Sb, barred\"\n1002,3,Sc\n".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: IngestError.self) { try IngestSource.scan(directory: dir) }
        guard case .badCatalogRow(let file, let line, let why)? = error else {
            Issue.record("expected badCatalogRow, got \(String(describing: error))")
            return
        }
        #expect(file == path && line == 3)
        #expect(why.contains("label 'Sb, barred'"))  // whole, not truncated to Sb
        #expect(error.map { "\($0)" }?.contains("Nothing was loaded") == true)

        // Under a vocabulary of its own the same label is fine.
        let vocabulary = try LabelVocabulary(spec: "Sa=Spiral,merger=Ambiguous,Sc=Spiral")
        try Data("id,specobjid,label\n1000,1,Sa\n1001,2,merger\n1002,3,\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try IngestSource.scan(directory: dir, vocabulary: vocabulary).files.map(\.label) == ["Sa", "merger", nil])
        #expect(throws: IngestError.self) { try IngestSource.scan(directory: dir) }
    }

    @Test func unmigratedDatabaseSaysToMigrate() throws {
        let dir = try Self.makeDataSet(count: 1)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try PostgresConnection(conninfo: PostgresCluster.shared().createDatabase(prefix: "ingest_bare"))
        let error = #expect(throws: IngestError.self) { try Ingester(connection: db).run(IngestSource.scan(directory: dir)) }
        #expect(error.map { "\($0)" }?.contains("galaxy migrate") == true)
    }
}

final class BadNames: @unchecked Sendable {
    private let lock = NSLock()
    private var names: [String] = []
    func add(_ name: String) { lock.withLock { names.append(name) } }
    var sorted: [String] { lock.withLock { names.sorted() } }
}
