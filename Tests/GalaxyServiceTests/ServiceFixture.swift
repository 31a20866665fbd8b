import Foundation
import GalaxyCore
import GalaxyImage
import GalaxyPostgres
import GalaxyService
import GalaxyTestSupport
import Logging
import Testing

/// A migrated database of its own for one test, with helpers to add models, insert images and run
/// daemons (in this process, or the built `galaxy serve` binary).
final class ServiceFixture: @unchecked Sendable {
    let cluster: PostgresCluster
    let conninfo: String
    let db: PostgresConnection
    private var daemons: [RunningDaemon] = []

    /// The repository root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    init(cluster: PostgresCluster? = nil, prefix: String = "service") throws {
        self.cluster = try cluster ?? PostgresCluster.shared()
        conninfo = try self.cluster.createDatabase(prefix: prefix)
        db = try PostgresConnection(conninfo: conninfo)
        try Self.migrate(db)
        // Checking for a trigger's writes lets tests prove every image was written exactly once.
        try db.executeScript(
            unsafeSQL: """
                create table public.prediction_writes (image_id bigint, model_id bigint, scored_by text);
                create function public.count_prediction_write() returns trigger language plpgsql as $$
                begin
                    insert into public.prediction_writes values (new.image_id, new.model_id, new.scored_by);
                    return new;
                end $$;
                create trigger count_writes after insert or update on galaxy.predictions
                    for each row execute function public.count_prediction_write();
                """)
    }

    /// Applies the migrations the binary carries, as `galaxy migrate` does.
    static func migrate(_ db: PostgresConnection) throws {
        var logger = Logger(label: "galaxy.test.migrate")
        logger.logLevel = .critical
        _ = try Migrator(logger: logger).migrate(db)
    }

    deinit {
        for daemon in daemons { _ = daemon.stop() }
    }

    // MARK: Models and images

    /// Adds a model as `galaxy model add` does (validated by the engine first).
    @discardableResult
    func addModel(_ name: String, _ onnx: [UInt8], activate: Bool = true) throws -> Int64 {
        let validated = try ModelValidation.validate(onnx: onnx)
        return try GalaxyStore(connection: db).addModel(
            name: name, onnx: onnx, validated: validated, activate: activate
        ).id
    }

    /// A valid 64x64 JPEG whose colour depends on `seed`.
    static func jpeg(seed: Int) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: 64 * 64 * 3)
        for i in 0..<(64 * 64) {
            rgb[3 * i] = UInt8(truncatingIfNeeded: seed &* 37 &+ i % 64)
            rgb[3 * i + 1] = UInt8(truncatingIfNeeded: seed &* 11 &+ i / 64)
            rgb[3 * i + 2] = UInt8(truncatingIfNeeded: seed &* 5)
        }
        return try! JPEGEncoder.encode(rgb: rgb, width: 64, height: 64, quality: 85)
    }

    /// A JPEG cut short in its entropy-coded data: the header parses, decoding fails.
    static var corruptJPEG: [UInt8] {
        let whole = jpeg(seed: 99)
        return Array(whole.prefix(whole.count / 3))
    }

    /// Inserts images (committed, so they are queued) and returns their ids in order.
    @discardableResult
    func insertImages(_ jpegs: [[UInt8]]) throws -> [Int64] {
        try db.transaction { c in
            try jpegs.map { jpeg in
                try c.query("insert into galaxy.images (jpeg) values (\(jpeg)) returning id").scalar(
                    Int64.self)
            }
        }
    }

    func insertImages(count: Int, from seed: Int = 0) throws -> [Int64] {
        try insertImages((0..<count).map { Self.jpeg(seed: seed + $0) })
    }

    func scalar<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self) throws -> T {
        try db.query(query).scalar(T.self)
    }

    // MARK: Daemons

    /// A daemon running in this process on a thread of its own.
    final class RunningDaemon: @unchecked Sendable {
        let daemon: ScoringDaemon
        private let done = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var finished = false

        init(_ daemon: ScoringDaemon) {
            self.daemon = daemon
            let thread = Thread { [done] in
                try? daemon.run()
                done.signal()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }

        /// Asks it to stop and waits up to 30 s; true when it stopped.
        func stop() -> Bool {
            lock.lock()
            defer { lock.unlock() }
            if finished { return true }
            daemon.requestShutdown()
            finished = done.wait(timeout: .now() + 30) == .success
            return finished
        }
    }

    func config(name: String, batchSize: Int = 8) -> DaemonConfig {
        var config = DaemonConfig(name: name)
        config.database = conninfo
        config.threads = 2
        config.batchSize = batchSize
        config.pollIntervalSeconds = 0.2
        config.heartbeatSeconds = 0.5
        config.leaseSeconds = 5
        config.retryBaseSeconds = 0.05
        return config
    }

    @discardableResult
    func startDaemon(
        name: String = "test-daemon", batchSize: Int = 8, pollOnly: Bool = false, conninfo: String? = nil
    ) -> RunningDaemon {
        var config = config(name: name, batchSize: batchSize)
        config.pollOnly = pollOnly
        var logger = Logger(label: "galaxy.test.\(name)")
        logger.logLevel = ProcessInfo.processInfo.environment["GALAXY_TEST_LOG"] == nil ? .critical : .debug
        let conninfo = conninfo ?? self.conninfo
        config.database = conninfo
        let daemon = ScoringDaemon(
            config: config,
            connect: { try PostgresDaemonDatabase(conninfo: conninfo, logger: logger) },
            loader: EngineModelLoader(), logger: logger)
        let running = RunningDaemon(daemon)
        daemons.append(running)
        // Return once it registered, so predict_galaxy sees a live daemon.
        _ = try? eventually(timeout: 30) {
            try scalar(
                "select count(*) from galaxy.daemons where name = \(name) and stopped_at is null",
                as: Int64.self) == 1
        }
        return running
    }

    /// The `galaxy` executable built next to the tests.
    static var galaxyBinary: URL {
        let env = ProcessInfo.processInfo.environment
        if let path = env["GALAXY_BIN"], FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        // The test bundle lives in .build/<triple>/debug; the executable beside it.
        let bundle = Bundle.main.bundleURL
        for candidate in [
            bundle.appendingPathComponent("galaxy"),
            bundle.deletingLastPathComponent().appendingPathComponent("galaxy"),
            root.appendingPathComponent(".build/debug/galaxy"),
        ]
        where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        return root.appendingPathComponent(".build/debug/galaxy")
    }

    /// Starts `galaxy serve` as a separate process.
    func spawnDaemon(name: String, extra: [String] = []) throws -> ChildProcess {
        try ChildProcess(
            executable: Self.galaxyBinary.path,
            arguments: [
                "serve", "--database", conninfo, "--name", name, "--threads", "2", "--batch-size", "8",
                "--lease-seconds", "2", "--heartbeat", "0.5", "--poll-interval", "0.2", "--retry-base",
                "0.05",
                "--log-level", "warning",
            ] + extra)
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass; returns whether it held.
/// A bound on waiting, never an assertion on speed.
func eventually(timeout: Double = 60, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return try condition()
}
