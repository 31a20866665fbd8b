import Foundation
import GalaxyPostgres
import GalaxyTestSupport
@testable import GalaxyWeb

/// A fresh database with the galaxy schema, a ready active model and tokens, for one test.
final class WebTestDatabase: @unchecked Sendable {
    let conninfo: String
    let admin: PostgresConnection
    let modelID: Int64

    init(prefix: String = "web") throws {
        let cluster = try PostgresCluster.shared()
        conninfo = try cluster.createDatabase(prefix: prefix)
        admin = try PostgresConnection(conninfo: conninfo)
        try Self.migrate(admin)
        let metadata = #"{"labels": ["A","Er","Ei","Ec","Sa","Sb","Sc","Sd","Se","SBa","SBb","SBc","SBd"], "output": "logits", "preprocessing": {"crop_fraction": 0.26, "decode_scale": "1", "size": 50}}"#
        modelID = try admin.query("select galaxy.add_model('test-cnn', '\\x0102'::bytea)").scalar(Int64.self)
        try admin.query(
            "select galaxy.model_validated(\(modelID)::bigint, \(PostgresJSONB(metadata)), \(GalaxyTestLabels.all))")
        try admin.query("select galaxy.activate_model('test-cnn', false)")
    }

    /// Applies Migrations/V*.sql then R__*.sql in order, as the migrator does.
    static func migrate(_ db: PostgresConnection) throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Migrations").standardized
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".sql") }
        let versioned = names.filter { $0.hasPrefix("V") }.sorted()
        let repeatable = names.filter { $0.hasPrefix("R__") }.sorted()
        for name in versioned + repeatable {
            let sql = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            try db.executeScript(unsafeSQL: sql)
        }
    }

    /// A new token with `scope`; returns its secret.
    func token(_ name: String, scope: TokenScope) throws -> String {
        try GalaxyStore(connection: admin).createToken(name: name, scope: scope)
    }

    func count(_ table: String) throws -> Int64 {
        try admin.query(PostgresQuery(unsafeSQL: "select count(*) from \(table)")).scalar(Int64.self)
    }

    func drop() {
        try? PostgresCluster.shared().dropDatabase(conninfo: conninfo)
    }
}

enum GalaxyTestLabels {
    static let all = ["A", "Er", "Ei", "Ec", "Sa", "Sb", "Sc", "Sd", "Se", "SBa", "SBb", "SBc", "SBd"]
}

/// Scores queued jobs through the daemon's SQL protocol (claim_jobs, complete_jobs), answering
/// `Sb` for every image, on its own thread until stopped.
final class SimulatedScorer: @unchecked Sendable {
    private let conninfo: String
    private let stopFlag = NSLock()
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    init(conninfo: String) throws {
        self.conninfo = conninfo
        let db = try PostgresConnection(conninfo: conninfo)
        try db.query("select galaxy.daemon_register('test-scorer', 'localhost', 1, 'test')")
        let thread = Thread { [self] in
            defer { finished.signal() }
            while !stopFlag.withLock({ stopped }) {
                do {
                    let jobs = try db.query("select job_id from galaxy.claim_jobs('test-scorer', 32, 30)")
                    let ids = try jobs.column(0, as: Int64.self)
                    if ids.isEmpty {
                        Thread.sleep(forTimeInterval: 0.005)
                        continue
                    }
                    var probabilities = [String: Double]()
                    for label in GalaxyTestLabels.all { probabilities[label] = label == "Sb" ? 0.88 : 0.01 }
                    let json = String(decoding: try JSONEncoder().encode(probabilities), as: UTF8.self)
                    try db.query(
                        """
                        select galaxy.complete_jobs('test-scorer', \(ids), \(ids.map { _ in "Sb" }),
                            \(ids.map { _ in "Spiral" }), \(ids.map { _ in PostgresJSONB(json) }),
                            \(ids.map { _ in Float(3.5) }), '{"crop_fraction": 0.26, "decode_scale": "1", "size": 50}'::jsonb)
                        """)
                } catch {
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
        }
        thread.start()
    }

    func stop() {
        stopFlag.withLock { stopped = true }
        finished.wait()
    }
}

enum Fixtures {
    static func jpeg(_ name: String = "spiral.jpg") -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent(name)
        return Array(FileManager.default.contents(atPath: url.path) ?? Data())
    }
}
