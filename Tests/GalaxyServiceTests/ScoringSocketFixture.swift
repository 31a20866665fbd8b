import Foundation
import GalaxyService
import GalaxyStore
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A scoring socket served in this process for one test, in a fresh folder the PostgreSQL server's
/// user can reach, and the SQL to point a session at it.
final class ScoringSocketFixture: @unchecked Sendable {
    let directory: URL
    let path: String
    let config: ScoringSocketConfig
    private let conninfo: String
    private var running: (listener: ScoringSocketListener, scorer: SocketScorer, done: DispatchGroup)?

    /// The group a root test process gives the socket to, so that backends (user postgres) may
    /// connect; a non-root test process runs the server as itself and needs none.
    static var serverGroup: String? { getuid() == 0 ? "postgres" : nil }

    /// A Unix socket in a fresh folder, or with `tcpSecret` a TCP port on 127.0.0.1 (chosen at start).
    init(conninfo: String, tcpSecret: [UInt8]? = nil) throws {
        self.conninfo = conninfo
        let name = "gzs-\(UInt32.random(in: 0...UInt32.max))"
        directory = URL(fileURLWithPath: "/tmp").appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        chmod(directory.path, 0o755)
        if let tcpSecret {
            config = ScoringSocketConfig(tcp: HostPort(host: "127.0.0.1", port: 0), secret: tcpSecret)
            path = ""
        } else {
            path = directory.appendingPathComponent("s").path
            config = ScoringSocketConfig(path: path, group: Self.serverGroup)
        }
    }

    /// The TCP port the listener bound, once started.
    private(set) var tcpPort: Int?

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts the listener and the scorer (models read from the fixture's database).
    func start(maxBatch: Int = 64, loader: any ScoringModelLoader = EngineModelLoader()) throws {
        var logger = Logger(label: "galaxy.test.socket")
        logger.logLevel = ProcessInfo.processInfo.environment["GALAXY_TEST_LOG"] == nil ? .critical : .debug
        let reader = SocketModelReader(conninfo: conninfo, logger: logger)
        let scorer = SocketScorer(
            source: { try reader.model(id: $0) }, loader: loader, threads: 2, maxBatch: maxBatch,
            logger: logger)
        let listener = try ScoringSocketListener(config: config, scorer: scorer, logger: logger)
        tcpPort = listener.boundPort
        let done = DispatchGroup()
        let bodies: [@Sendable () -> Void] = [{ scorer.run() }, { listener.serve() }]
        for body in bodies {
            done.enter()
            let thread = Thread {
                body()
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        running = (listener, scorer, done)
    }

    /// Stops as `galaxy serve` does on SIGTERM.
    func stop() {
        guard let running else { return }
        running.listener.shutDown()
        running.scorer.stop()
        _ = running.done.wait(timeout: .now() + 30)
        self.running = nil
    }

    /// `SET galaxy.scoring_socket` for this socket.
    var setSQL: String {
        if let tcpPort { return "set galaxy.scoring_socket = 'tcp://127.0.0.1:\(tcpPort)'" }
        return "set galaxy.scoring_socket = '\(path)'"
    }

    /// Connects to the socket as a client and returns the descriptor.
    func connectRaw() -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = ScoringSocketFixture.address(path)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        precondition(result == 0, "cannot connect to \(path): \(String(cString: strerror(errno)))")
        return fd
    }

    static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// Sends bytes and reads until the daemon closes or `replyBytes` arrived (nil: until close).
    static func exchange(_ fd: Int32, send bytes: [UInt8], timeout: Double = 10) -> [UInt8] {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if received.count >= ScoringFrames.headerLength,
                received.count == ScoringFrames.headerLength + Int(ScoringFramesPeek.bodyLength(received))
            {
                return received
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, 65536, 0) }
            if n <= 0 { return received }
            received += buffer[0..<n]
        }
    }
}

/// Reads a frame header's body length.
enum ScoringFramesPeek {
    static func bodyLength(_ bytes: [UInt8]) -> UInt32 {
        UInt32(bytes[4]) << 24 | UInt32(bytes[5]) << 16 | UInt32(bytes[6]) << 8 | UInt32(bytes[7])
    }
}

/// A socket that accepts and then misbehaves: never answers, or closes after reading a request.
final class MisbehavingSocket: @unchecked Sendable {
    enum Behaviour { case silent, closesMidRequest }
    let path: String
    private let fd: Int32
    private var clients: [Int32] = []
    private let lock = NSLock()

    init(directory: URL, behaviour: Behaviour) {
        path = directory.appendingPathComponent(behaviour == .silent ? "silent" : "dies").path
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = ScoringSocketFixture.address(path)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        chmod(path, 0o666)
        listen(fd, 16)
        let listening = fd
        let thread = Thread { [self] in
            while true {
                let client = accept(listening, nil, nil)
                if client < 0 { return }
                if behaviour == .closesMidRequest {
                    var buffer = [UInt8](repeating: 0, count: 64)
                    _ = recv(client, &buffer, 64, 0)
                    close(client)
                } else {
                    lock.withLock { clients.append(client) }
                }
            }
        }
        thread.start()
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        lock.withLock { for client in clients { close(client) } }
    }
}

/// Loads with the engine, then takes `seconds` longer over every batch: requests that arrive
/// meanwhile must wait for the next batch, so batching becomes visible.
struct SlowLoader: ScoringModelLoader {
    var seconds: Double

    func load(onnx: [UInt8], threads: Int) throws -> any ScoringModel {
        SlowModel(inner: try EngineModelLoader().load(onnx: onnx, threads: threads), seconds: seconds)
    }

    private struct SlowModel: ScoringModel {
        let inner: any ScoringModel
        let seconds: Double
        var preprocessingJSON: String { inner.preprocessingJSON }
        var metadataJSON: String { inner.metadataJSON }
        var labels: [String] { inner.labels }

        func score(jpegs: [[UInt8]], imageIDs: [Int64]) -> [JobOutcome] {
            Thread.sleep(forTimeInterval: seconds)
            return inner.score(jpegs: jpegs, imageIDs: imageIDs)
        }
    }
}
