import Foundation
import GalaxyPostgres

/// A real PostgreSQL server for tests and benchmarks.
///
/// `PostgresCluster.shared()` is the server every suite uses: the one `GALAXY_TEST_DATABASE_URL`
/// names (`scripts/test` sets it), or else a private cluster started once per process. Each suite
/// takes a fresh database from it with `createDatabase()`. Tests that restart or kill the server
/// use `PostgresCluster.makePrivate()` instead, a cluster of their own.
///
/// A private cluster lives in a temporary folder (data and Unix socket, a free port, trust
/// authentication, superuser `galaxy`); when running as root the server runs as user `postgres`.
/// It is stopped and removed on deinit, at process exit, and by a watchdog if the test process
/// dies without exiting cleanly, so no server outlives the tests.
public final class PostgresCluster: @unchecked Sendable {
    /// The connection string for the maintenance database (`postgres`) as a superuser.
    public let adminConnInfo: String
    /// Whether this process started the server (and may restart or kill it).
    public let isPrivate: Bool
    /// The cluster's folder (private clusters only).
    public let directory: URL?
    /// The port the server listens on (its socket is `.s.PGSQL.<port>` in `directory`).
    public let port: Int

    private let lock = NSLock()
    private var databaseCounter = 0
    private var watchdog: ChildProcess?

    private static let sharedLock = NSLock()
    nonisolated(unsafe) private static var sharedCluster: PostgresCluster?

    /// The cluster shared by all tests of this process.
    /// - Throws: `ClusterError` when no server is configured and a private one cannot start.
    public static func shared() throws -> PostgresCluster {
        try sharedLock.withLock {
            if let cluster = sharedCluster { return cluster }
            let cluster: PostgresCluster
            if let url = ProcessInfo.processInfo.environment["GALAXY_TEST_DATABASE_URL"], !url.isEmpty {
                cluster = try PostgresCluster(external: url)
            } else {
                cluster = try PostgresCluster(privateCluster: ())
            }
            sharedCluster = cluster
            return cluster
        }
    }

    /// A cluster of its own, for tests that restart, stop or kill the server.
    public static func makePrivate() throws -> PostgresCluster {
        try PostgresCluster(privateCluster: ())
    }

    private init(external url: String) throws {
        let connection = try PostgresConnection(conninfo: url)
        adminConnInfo = url
        isPrivate = false
        directory = nil
        port = Int(connection.parameters.port) ?? 5432
    }

    private init(privateCluster: Void) throws {
        var template = Array((NSTemporaryDirectory() + "/galaxy-pg.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw ClusterError("cannot create a temporary folder for PostgreSQL") }
        let dir = URL(fileURLWithPath: String(cString: made))
        directory = dir
        isPrivate = true
        port = try Self.freePort()
        adminConnInfo = "host='\(dir.path)' port=\(port) user=galaxy dbname=postgres"
        chmod(dir.path, 0o755)
        if Self.runningAsRoot {
            _ = try ChildProcess.run("/bin/chown", ["postgres:", dir.path])
        }
        ClusterRegistry.add(dir.path)
        let initdb = try Self.runAsServerUser(
            "initdb", ["-D", dir.appendingPathComponent("data").path, "-U", "galaxy", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"])
        guard initdb.status == 0 else {
            throw ClusterError("initdb failed (exit \(initdb.status)):\n\(initdb.output)\(initdb.error)")
        }
        startWatchdog()
        try start()
    }

    deinit {
        guard isPrivate, let directory else { return }
        try? stop(mode: "immediate")
        watchdog?.send(signal: SIGKILL)
        try? FileManager.default.removeItem(at: directory)
        ClusterRegistry.remove(directory.path)
    }

    // MARK: - Databases

    /// Creates an empty database with a unique name and returns its connection string.
    /// - Parameter prefix: the start of the name, for example the suite's name.
    public func createDatabase(prefix: String = "test") throws -> String {
        let n = lock.withLock { () -> Int in
            databaseCounter += 1
            return databaseCounter
        }
        let safePrefix = String(prefix.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(30))
        let name = "\(safePrefix)_\(getpid())_\(n)_\(UInt32.random(in: 0..<UInt32.max))"
        let admin = try PostgresConnection(conninfo: adminConnInfo)
        try admin.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE " + PostgresQuery.quoteIdentifier(name)))
        return admin.conninfo(forDatabase: name)
    }

    /// Drops a database made by `createDatabase`, disconnecting its sessions first.
    public func dropDatabase(conninfo: String) throws {
        let name = try PostgresConnection(conninfo: conninfo).parameters.database
        let admin = try PostgresConnection(conninfo: adminConnInfo)
        try admin.execute(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS " + PostgresQuery.quoteIdentifier(name) + " WITH (FORCE)"))
    }

    /// A new connection to `conninfo` (or to the maintenance database).
    public func connect(_ conninfo: String? = nil) throws -> PostgresConnection {
        try PostgresConnection(conninfo: conninfo ?? adminConnInfo)
    }

    // MARK: - Server control (private clusters)

    /// Starts the server (after `stop()` or `kill9()`), on the same port.
    public func start() throws {
        let dir = try privateDirectory()
        let options = "-p \(port) -k '\(dir.path)' -c listen_addresses='' -c fsync=off -c max_connections=100 -c shared_buffers=32MB"
        let result = try Self.runAsServerUser(
            "pg_ctl", ["-D", dir.appendingPathComponent("data").path, "-l", dir.appendingPathComponent("server.log").path, "-w", "-t", "120", "-o", options, "start"])
        guard result.status == 0 else {
            let log = ChildProcess.readText(dir.appendingPathComponent("server.log").path)
            throw ClusterError("PostgreSQL did not start (exit \(result.status)):\n\(result.output)\(result.error)\n\(log.suffix(2000))")
        }
    }

    /// Stops the server. `mode` is pg_ctl's: "fast" (default) disconnects sessions cleanly.
    public func stop(mode: String = "fast") throws {
        let dir = try privateDirectory()
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("data/postmaster.pid").path) else { return }
        let result = try Self.runAsServerUser("pg_ctl", ["-D", dir.appendingPathComponent("data").path, "-m", mode, "-w", "-t", "120", "stop"])
        guard result.status == 0 else { throw ClusterError("pg_ctl stop failed: \(result.output)\(result.error)") }
    }

    /// Stops and starts the server; clients see their connections drop.
    public func restart() throws {
        try stop()
        try start()
    }

    /// Kills the postmaster and its backends with SIGKILL, as a crash would. `start()` then runs
    /// crash recovery.
    public func kill9() throws {
        let dir = try privateDirectory()
        guard let pid = Self.postmasterPID(dir) else { throw ClusterError("the server is not running") }
        let children = Self.childProcesses(of: pid)
        kill(pid, SIGKILL)
        for child in children { kill(child, SIGKILL) }
        _ = waitUntil(timeout: 30) { kill(pid, 0) != 0 && children.allSatisfy { kill($0, 0) != 0 } }
        try? FileManager.default.removeItem(at: dir.appendingPathComponent("data/postmaster.pid"))
    }

    /// The server log so far (private clusters), for failure messages.
    public var serverLog: String {
        guard let directory else { return "" }
        return ChildProcess.readText(directory.appendingPathComponent("server.log").path)
    }

    private func privateDirectory() throws -> URL {
        guard isPrivate, let directory else {
            throw ClusterError("this test needs a private cluster (PostgresCluster.makePrivate()); the shared one is not ours to control")
        }
        return directory
    }

    // MARK: - Helpers

    static var runningAsRoot: Bool { getuid() == 0 }

    static let binDirectory: String = {
        if let dir = ProcessInfo.processInfo.environment["GALAXY_PG_BIN"] { return dir }
        return "/usr/lib/postgresql/15/bin"
    }()

    static func runAsServerUser(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let path = binDirectory + "/" + tool
        if runningAsRoot {
            return try ChildProcess.run("/usr/sbin/runuser", ["-u", "postgres", "--", path] + arguments, currentDirectory: "/tmp")
        }
        return try ChildProcess.run(path, arguments)
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClusterError("cannot open a socket to find a free port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw ClusterError("cannot bind a socket to find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func postmasterPID(_ dir: URL) -> pid_t? {
        let text = ChildProcess.readText(dir.appendingPathComponent("data/postmaster.pid").path)
        guard let line = text.split(separator: "\n").first, let pid = pid_t(line.trimmingCharacters(in: .whitespaces))
        else { return nil }
        return pid
    }

    static func childProcesses(of parent: pid_t) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                case let stat = ChildProcess.readText("/proc/\(entry)/stat"),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // Fields after the command name: state, ppid, ...
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, pid_t(fields[1]) == parent else { return nil }
            return pid
        }
    }

    /// A shell that waits for this process to end and then kills the server and removes its
    /// folder, for the case where the process dies without running exit handlers (a crash).
    private func startWatchdog() {
        guard let dir = directory else { return }
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            pid=$(head -n 1 '\(dir.path)/data/postmaster.pid' 2>/dev/null)
            if [ -n "$pid" ]; then
                kill -QUIT "$pid" 2>/dev/null
                sleep 2
                pkill -9 -P "$pid" 2>/dev/null
                kill -9 "$pid" 2>/dev/null
            fi
            rm -rf '\(dir.path)'
            """
        watchdog = try? ChildProcess(executable: "/bin/sh", arguments: ["-c", script])
    }
}

/// A private cluster that could not be set up or controlled.
public struct ClusterError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Private clusters alive in this process, stopped by an exit handler.
enum ClusterRegistry {
    nonisolated(unsafe) static var directories: Set<String> = []
    static let lock = NSLock()
    nonisolated(unsafe) static var installed = false

    static func add(_ path: String) {
        lock.withLock {
            directories.insert(path)
            if !installed {
                installed = true
                atexit {
                    let paths = ClusterRegistry.lock.withLock { ClusterRegistry.directories }
                    for path in paths {
                        let dir = URL(fileURLWithPath: path)
                        if let pid = PostgresCluster.postmasterPID(dir) {
                            // SIGQUIT is PostgreSQL's immediate shutdown: it stops its backends and
                            // releases shared memory. SIGKILL only if it does not go within 10 s.
                            let children = PostgresCluster.childProcesses(of: pid)
                            kill(pid, SIGQUIT)
                            if !waitUntil(timeout: 10, { kill(pid, 0) != 0 }) {
                                kill(pid, SIGKILL)
                                for child in children { kill(child, SIGKILL) }
                            }
                        }
                        try? FileManager.default.removeItem(at: dir)
                    }
                }
            }
        }
    }

    static func remove(_ path: String) {
        lock.withLock { _ = directories.remove(path) }
    }
}
