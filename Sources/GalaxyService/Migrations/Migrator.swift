import Foundation
import GalaxyPostgres
import Logging

/// Applies migrations to a database, Flyway style: pending versioned files in version order, then
/// repeatable files whose checksum changed, in name order, all in one transaction under an advisory
/// lock, recorded in `galaxy_migrations.history`.
///
/// Many processes may migrate one database at once: the first takes the lock and applies, the
/// others wait for it and then find nothing to do. A failing file rolls back the whole run.
public struct Migrator: Sendable {
    /// The migrations this migrator knows, in application order.
    public let migrations: [Migration]
    private let logger: Logger

    /// The key of the transaction-scoped advisory lock (`pg_advisory_xact_lock`) that serialises
    /// migrators on one database: the ASCII bytes of "galaxymg".
    public static let advisoryLockKey: Int64 = 0x6761_6C61_7879_6D67

    /// - Parameters:
    ///   - migrations: the files to apply; by default the ones compiled into this binary.
    ///   - logger: receives a line per applied file.
    /// - Throws: `MigrationError.duplicateVersion` when two files share a version.
    public init(migrations: [Migration]? = nil, logger: Logger = Logger(label: "galaxy.migrate")) throws {
        self.migrations = try Migration.ordered(migrations ?? EmbeddedMigrations.all())
        self.logger = logger
    }

    /// Brings the database up to date.
    /// - Returns: what was applied.
    /// - Throws: `MigrationError` (changed or unknown applied files, an extension-managed schema,
    ///   a failing file) or `PostgresError` for connection problems.
    @discardableResult
    public func migrate(_ connection: PostgresConnection) throws -> MigrationReport {
        // Roles are cluster-wide: migrators of different databases in one cluster can race on
        // CREATE ROLE or GRANT. The advisory lock is per database, so such a race is retried.
        var attempt = 1
        while true {
            do {
                return try migrateOnce(connection)
            } catch MigrationError.failed(let file, let line, let error) where attempt < 4 && Self.isConcurrentCatalogRace(error) {
                logger.info(
                    "retrying migration after a concurrent catalog update",
                    metadata: ["migration.file": "\(file)", "migration.line": "\(line ?? 0)", "postgres.sqlstate": "\(error.sqlState ?? "")"])
                attempt += 1
                Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
            }
        }
    }

    /// Each migration's state in the database, without changing anything.
    public func status(_ connection: PostgresConnection) throws -> [MigrationStatus] {
        let history = try Self.historyExists(connection) ? try Self.readHistory(connection) : []
        var latestByFile: [String: HistoryRow] = [:]
        for row in history { latestByFile[row.script] = row }
        var out: [MigrationStatus] = migrations.map { migration in
            guard let row = latestByFile[migration.fileName] else {
                return MigrationStatus(fileName: migration.fileName, state: .pending, appliedAt: nil)
            }
            if row.checksum == migration.checksum {
                return MigrationStatus(fileName: migration.fileName, state: .applied, appliedAt: row.appliedAt)
            }
            return MigrationStatus(
                fileName: migration.fileName, state: migration.version == nil ? .outdated : .changed, appliedAt: row.appliedAt)
        }
        let known = Set(migrations.map(\.fileName))
        for row in history where !known.contains(row.script) && row.version != nil {
            if !out.contains(where: { $0.fileName == row.script }) {
                out.append(MigrationStatus(fileName: row.script, state: .unknown, appliedAt: row.appliedAt))
            }
        }
        return out
    }

    // MARK: - Applying

    private func migrateOnce(_ connection: PostgresConnection) throws -> MigrationReport {
        try connection.transaction { db in
            let waitStart = Date()
            try db.execute("select pg_advisory_xact_lock(\(Self.advisoryLockKey))")
            let waited = Date().timeIntervalSince(waitStart)
            if let version = try db.query("select extversion from pg_catalog.pg_extension where extname = 'galaxy'")
                .first?.decode(String.self, at: 0)
            {
                throw MigrationError.extensionInstalled(version: version)
            }
            try db.executeScript(unsafeSQL: Self.historyDDL)
            let history = try Self.readHistory(db)
            let plan = try plan(history: history)
            var report = MigrationReport(lockWaitSeconds: waited)
            for migration in plan {
                let start = Date()
                do {
                    try db.executeScript(unsafeSQL: migration.sql)
                } catch let error as PostgresError {
                    throw MigrationError.failed(
                        file: migration.fileName, line: error.position.map { Self.line(of: $0, in: migration.sql) }, error)
                }
                let milliseconds = Int(Date().timeIntervalSince(start) * 1000)
                try db.execute(
                    """
                    insert into galaxy_migrations.history (script, kind, version, description, checksum, duration_ms)
                    values (\(migration.fileName), \(migration.version == nil ? "R" : "V"), \(migration.version)::int,
                            \(migration.description), \(migration.checksum), \(milliseconds))
                    """)
                logger.debug(
                    "applied migration", metadata: ["migration.file": "\(migration.fileName)", "migration.ms": "\(milliseconds)"])
                report.applied.append(.init(fileName: migration.fileName, milliseconds: milliseconds, reapplied: history.contains { $0.script == migration.fileName }))
            }
            report.upToDate = migrations.count - plan.count
            // On every run, not only when its file changed: the library may have been installed
            // (or removed) since.
            if try db.query("select to_regprocedure('galaxy.install_native_functions(text)') is not null")
                .first?.decode(Bool.self, at: 0) == true
            {
                report.nativeFunctions = try db.query("select galaxy.install_native_functions()")
                    .first?.decode(String.self, at: 0)
            }
            return report
        }
    }

    /// What to apply given the history, after checking the history against this build.
    func plan(history: [HistoryRow]) throws -> [Migration] {
        var latest: [String: HistoryRow] = [:]
        for row in history { latest[row.script] = row }
        let byName = Dictionary(uniqueKeysWithValues: migrations.map { ($0.fileName, $0) })

        let changed = migrations.compactMap { m -> (file: String, expected: String, applied: String)? in
            guard m.version != nil, let row = latest[m.fileName], row.checksum != m.checksum else { return nil }
            return (m.fileName, m.checksum, row.checksum)
        }
        if !changed.isEmpty { throw MigrationError.changedAfterApply(changed) }

        let unknown = history.filter { $0.version != nil && byName[$0.script] == nil }.map(\.script)
        if !unknown.isEmpty { throw MigrationError.unknownApplied(Array(Set(unknown)).sorted()) }

        let appliedVersions = history.compactMap(\.version)
        let pendingVersioned = migrations.filter { $0.version != nil && latest[$0.fileName] == nil }
        if let highest = appliedVersions.max(), let early = pendingVersioned.first(where: { $0.version! < highest }) {
            let latestName = history.first { $0.version == highest }?.script ?? "V\(highest)"
            throw MigrationError.outOfOrder(pending: early.fileName, latestApplied: latestName)
        }
        let pendingRepeatable = migrations.filter { $0.version == nil && latest[$0.fileName]?.checksum != $0.checksum }
        return pendingVersioned + pendingRepeatable
    }

    // MARK: - History

    struct HistoryRow {
        var script: String
        var version: Int?
        var checksum: String
        var appliedAt: Date
    }

    static let historyDDL = """
        create schema if not exists galaxy_migrations;
        comment on schema galaxy_migrations is 'Migration history of galaxy migrate';
        create table if not exists galaxy_migrations.history (
            id          bigint generated always as identity primary key,
            script      text not null,
            kind        text not null check (kind in ('V', 'R')),
            version     integer,
            description text not null,
            checksum    text not null,
            applied_at  timestamptz not null default now(),
            applied_by  text not null default current_user,
            duration_ms integer not null,
            check ((kind = 'V') = (version is not null))
        );
        create unique index if not exists history_version_once on galaxy_migrations.history (version) where kind = 'V';
        """

    static func historyExists(_ db: PostgresConnection) throws -> Bool {
        try db.query("select to_regclass('galaxy_migrations.history') is not null").scalar(Bool.self)
    }

    static func readHistory(_ db: PostgresConnection) throws -> [HistoryRow] {
        try db.query("select script, version, checksum, applied_at from galaxy_migrations.history order by id").map { row in
            HistoryRow(
                script: try row.decode(String.self, at: 0), version: try row.decode(Int?.self, at: 1),
                checksum: try row.decode(String.self, at: 2), appliedAt: try row.decode(Date.self, at: 3))
        }
    }

    /// The 1-based line of a 1-based character position.
    static func line(of position: Int, in text: String) -> Int {
        1 + text.prefix(max(0, position - 1)).reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
    }

    static func isConcurrentCatalogRace(_ error: PostgresError) -> Bool {
        switch error.sqlState {
        case "XX000": return error.message.contains("tuple concurrently updated")
        case PostgresError.Code.uniqueViolation: return error.message.contains("pg_authid") || error.constraint?.hasPrefix("pg_") == true
        case "42710": return error.message.contains("role")  // duplicate_object: role already exists
        case PostgresError.Code.deadlockDetected, PostgresError.Code.serializationFailure: return true
        default: return false
        }
    }
}

/// What `Migrator.migrate` did.
public struct MigrationReport: Sendable {
    /// One applied file.
    public struct Applied: Sendable {
        public var fileName: String
        public var milliseconds: Int
        /// True for a repeatable file applied before (its content changed).
        public var reapplied: Bool
    }

    /// Files applied in this run, in order.
    public var applied: [Applied] = []
    /// Files that were already up to date.
    public var upToDate = 0
    /// Seconds spent waiting for another migrator's lock.
    public var lockWaitSeconds: Double = 0
    /// Whether galaxy.classify is the galaxy library's C function, and if not why (from
    /// `galaxy.install_native_functions()`).
    public var nativeFunctions: String?
}

/// One migration's state in a database.
public struct MigrationStatus: Sendable, Hashable {
    /// The state of a file relative to the database.
    public enum State: String, Sendable {
        /// Applied with the same content.
        case applied
        /// Not applied yet.
        case pending
        /// A versioned file whose content differs from what was applied (migrate refuses).
        case changed
        /// A repeatable file that changed; migrate re-applies it.
        case outdated
        /// Applied in the database but not part of this build.
        case unknown
    }

    public var fileName: String
    public var state: State
    public var appliedAt: Date?
}
