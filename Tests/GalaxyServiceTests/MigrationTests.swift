import Foundation
import GalaxyImage
import GalaxyPostgres
import GalaxyService
import GalaxyTestSupport
import Testing

@Suite("migrations")
struct MigrationTests {
    static let v1 = try! Migration(fileName: "V0001__create_items.sql", sql: "create table items (id int primary key, name text);\n")
    static let v2 = try! Migration(fileName: "V0002__add_size.sql", sql: "alter table items add column size int;\ninsert into items values (1, 'a', 10);\n")
    static let view = try! Migration(fileName: "R__item_view.sql", sql: "create or replace view item_names as select name from items;\n")

    func freshDatabase() throws -> PostgresConnection {
        try PostgresConnection(conninfo: PostgresCluster.shared().createDatabase(prefix: "migrations"))
    }

    @Test func freshApplyRunsVersionedThenRepeatableAndRecordsThem() throws {
        let db = try freshDatabase()
        let report = try Migrator(migrations: [Self.view, Self.v2, Self.v1]).migrate(db)
        #expect(report.applied.map(\.fileName) == ["V0001__create_items.sql", "V0002__add_size.sql", "R__item_view.sql"])
        #expect(try db.query("select name from item_names").scalar(String.self) == "a")
        let history = try db.query("select script, kind, version, checksum from galaxy_migrations.history order by id")
        #expect(try history.column(0, as: String.self) == report.applied.map(\.fileName))
        #expect(try history.column(2, as: Int?.self) == [1, 2, nil])
        #expect(try history.column(3, as: String.self) == [Self.v1.checksum, Self.v2.checksum, Self.view.checksum])
    }

    @Test func secondRunChangesNothing() throws {
        let db = try freshDatabase()
        let migrator = try Migrator(migrations: [Self.v1, Self.v2, Self.view])
        try migrator.migrate(db)
        let again = try migrator.migrate(db)
        #expect(again.applied.isEmpty)
        #expect(again.upToDate == 3)
        #expect(try db.query("select count(*) from galaxy_migrations.history").scalar(Int.self) == 3)
        #expect(try migrator.status(db).allSatisfy { $0.state == .applied })
    }

    @Test func changedVersionedFileIsRefusedListingExpectedAndApplied() throws {
        let db = try freshDatabase()
        try Migrator(migrations: [Self.v1, Self.view]).migrate(db)
        let edited = try Migration(fileName: Self.v1.fileName, sql: Self.v1.sql + "-- edited\n")
        let migrator = try Migrator(migrations: [edited, Self.v2, Self.view])
        let error = #expect(throws: MigrationError.self) { try migrator.migrate(db) }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("V0001__create_items.sql"))
        #expect(text.contains("expected (this build) \(edited.checksum)"))
        #expect(text.contains("applied \(Self.v1.checksum)"))
        // Nothing else ran: V0002 is still pending.
        #expect(try db.query("select count(*) from information_schema.columns where table_name = 'items' and column_name = 'size'").scalar(Int.self) == 0)
        #expect(try migrator.status(db).first { $0.fileName == edited.fileName }?.state == .changed)
    }

    @Test func changedRepeatableFileIsReapplied() throws {
        let db = try freshDatabase()
        try Migrator(migrations: [Self.v1, Self.v2, Self.view]).migrate(db)
        let newView = try Migration(
            fileName: Self.view.fileName, sql: "create or replace view item_names as select name, size from items;\n")
        let migrator = try Migrator(migrations: [Self.v1, Self.v2, newView])
        #expect(try migrator.status(db).first { $0.fileName == newView.fileName }?.state == .outdated)
        let report = try migrator.migrate(db)
        #expect(report.applied.map(\.fileName) == [newView.fileName])
        #expect(report.applied.first?.reapplied == true)
        #expect(try db.query("select size from item_names").scalar(Int.self) == 10)
        #expect(try migrator.migrate(db).applied.isEmpty)
    }

    @Test func failingFileRollsBackTheWholeRunAndNamesTheLine() throws {
        let db = try freshDatabase()
        let broken = try Migration(fileName: "V0002__broken.sql", sql: "alter table items add column size int;\n\nselect no_such_column from items;\n")
        let error = #expect(throws: MigrationError.self) {
            try Migrator(migrations: [Self.v1, broken]).migrate(db)
        }
        guard case .failed(let file, let line, let cause) = error else {
            Issue.record("expected a failed migration, got \(String(describing: error))")
            return
        }
        #expect(file == "V0002__broken.sql")
        #expect(line == 3)
        #expect(cause.sqlState == "42703")
        #expect("\(error!)".contains("V0002__broken.sql, line 3"))
        #expect(try db.query("select to_regclass('items') is null").scalar(Bool.self))
        #expect(try db.query("select to_regclass('galaxy_migrations.history') is null").scalar(Bool.self))
    }

    @Test func olderPendingVersionIsRefused() throws {
        let db = try freshDatabase()
        try Migrator(migrations: [Self.v2.renamed("V0005__add_size.sql"), Self.v1]).migrate(db)
        let late = try Migration(fileName: "V0003__late.sql", sql: "select 1;")
        let error = #expect(throws: MigrationError.self) {
            try Migrator(migrations: [Self.v1, late, Self.v2.renamed("V0005__add_size.sql")]).migrate(db)
        }
        #expect(error.map { "\($0)" }?.contains("V0003__late.sql is older than the already applied V0005__add_size.sql") == true)
    }

    @Test func fileNamesAreParsedStrictly() throws {
        #expect(try Migration(fileName: "V0012__add_thing.sql", sql: "").version == 12)
        #expect(try Migration(fileName: "R__views.sql", sql: "").kind == .repeatable)
        for bad in ["V1_x.sql", "X__y.sql", "V__y.sql", "V0001__.sql", "V0001__a.txt", "v0001__a.sql"] {
            #expect(throws: MigrationError.self) { try Migration(fileName: bad, sql: "") }
        }
        #expect(throws: MigrationError.self) {
            try Migrator(migrations: [Self.v1, Self.v1.renamed("V1__again.sql")])
        }
        // SHA-256 of "abc" (FIPS 180-4 example).
        #expect(try Migration(fileName: "R__abc.sql", sql: "abc").checksum == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func concurrentMigratorsBothSucceedAndOneApplies() throws {
        let url = try PostgresCluster.shared().createDatabase(prefix: "migrations_race")
        let migrator = try Migrator()
        let threads = 4
        let results = ResultBox(count: threads)
        let group = DispatchGroup()
        for i in 0..<threads {
            group.enter()
            Thread {
                results.set(i, Result { try migrator.migrate(PostgresConnection(conninfo: url)) })
                group.leave()
            }.start()
        }
        group.wait()
        let reports = try results.values.map { try $0.get() }
        #expect(reports.filter { !$0.applied.isEmpty }.count == 1)
        #expect(reports.map(\.applied.count).reduce(0, +) == migrator.migrations.count)
        let db = try PostgresConnection(conninfo: url)
        #expect(try db.query("select count(*) from galaxy_migrations.history").scalar(Int.self) == migrator.migrations.count)
    }

    /// A database that ran the first two versions keeps its models' preprocessing readable in the
    /// one recorded form after V0003, and its old predictions too.
    @Test func version3RewritesEarlierModelMetadataIntoTheRecordedForm() throws {
        let db = try freshDatabase()
        let shipped = try EmbeddedMigrations.all()
        let early = shipped.filter { ["V0001__schema.sql", "V0002__api_tokens.sql"].contains($0.fileName) }
        #expect(early.count == 2)
        try Migrator(migrations: early).migrate(db)
        let legacy = #"{"labels":["Er","Sa"],"input_size":50,"crop_fraction":0.26,"decode_scale":"1/4","output":"logits"}"#
        let model = try db.query(
            """
            insert into galaxy.models (name, onnx, status, metadata)
            values ('old', '\\x01', 'ready', \(PostgresJSONB(legacy))) returning id
            """
        ).scalar(Int64.self)
        let image = try db.query("insert into galaxy.images (jpeg) values ('\\xffd8ff') returning id").scalar(Int64.self)
        try db.query(
            """
            insert into galaxy.predictions (image_id, model_id, label, class, probabilities, model_sha256,
                                            image_sha256, preprocessing)
            values (\(image), \(model), 'Sa', 'Spiral', '{}', '\\x00', '\\x00', '{"crop_fraction":0.26,"size":50}')
            """)
        try Migrator().migrate(db)
        let recorded = try db.query("select (metadata -> 'preprocessing')::text from galaxy.models where id = \(model)")
            .scalar(String.self)
        #expect(try PreprocessOptions(json: recorded) == PreprocessOptions(cropFraction: 0.26, size: 50, decodeScale: .quarter))
        let predicted = try db.query("select preprocessing::text from galaxy.predictions").scalar(String.self)
        #expect(try PreprocessOptions(json: predicted) == PreprocessOptions(cropFraction: 0.26, size: 50, decodeScale: .full))
    }

    @Test func shippedMigrationsCreateTheDaemonProtocol() throws {
        let db = try freshDatabase()
        let migrator = try Migrator()
        try migrator.migrate(db)
        for function in ["galaxy.claim_jobs", "galaxy.complete_jobs", "galaxy.fail_jobs", "galaxy.daemon_register", "public.predict_galaxy"] {
            #expect(try db.query("select count(*) from pg_proc where oid::regproc::text = \(function) or (pronamespace::regnamespace::text || '.' || proname) = \(function)").scalar(Int.self) >= 1, "\(function)")
        }
        // predict_galaxy resolves unqualified in a default session.
        #expect(try db.query("select count(*) from pg_proc where proname = 'predict_galaxy' and pg_function_is_visible(oid)").scalar(Int.self) >= 1)
        #expect(try migrator.migrate(db).applied.isEmpty)
    }

    @Test func embeddedMigrationsMatchTheMigrationsFolder() throws {
        let folder = BuiltProducts.packageRoot.appendingPathComponent("Migrations")
        let onDisk = try Migration.load(directory: folder)
        let embedded = try EmbeddedMigrations.all()
        #expect(embedded.map(\.fileName) == onDisk.map(\.fileName), "run scripts/generate-embedded-migrations")
        for (a, b) in zip(embedded, onDisk) {
            #expect(a.sql == b.sql, "\(a.fileName) differs from Migrations/: run scripts/generate-embedded-migrations")
        }
    }
}

extension Migration {
    func renamed(_ name: String) -> Migration { try! Migration(fileName: name, sql: sql) }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Result<MigrationReport, any Error>?]
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: Result<MigrationReport, any Error>) { lock.withLock { storage[i] = value } }
    var values: [Result<MigrationReport, any Error>] { lock.withLock { storage.compactMap { $0 } } }
}
