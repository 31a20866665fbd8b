import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Why the scoring socket could not be opened.
public struct ScoringSocketError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// The daemon's socket for `galaxy.classify`, serving each connection on its own thread, one
/// request at a time.
///
/// A Unix socket takes `PATH.lock` (so a second daemon on the same path is refused, and a stale
/// socket from a crashed one is replaced), binds with mode 0600, or 0660 for its group, and checks
/// peers by their credentials (SO_PEERCRED): this daemon's user, root, or a member of the group.
/// A TCP socket requires each connection to start with the shared secret (`GZA1` frame).
public final class ScoringSocketListener: @unchecked Sendable {
    private let config: ScoringSocketConfig
    private let scorer: SocketScorer
    private let logger: Logger
    private let allowedGroupID: gid_t?
    private let allowedGroupMembers: Set<String>
    private var listenFD: Int32 = -1
    private var lockFD: Int32 = -1

    private let lock = NSLock()
    private var connections: Set<Int32> = []
    private var closing = false
    private var closed = false
    private let drained = NSCondition()

    /// The TCP port bound (useful with port 0), or nil for a Unix socket.
    public private(set) var boundPort: Int?

    /// Takes the lock (Unix) and binds the socket.
    /// - Throws: `ScoringSocketError` saying which address, what is wrong and what to do.
    public init(config: ScoringSocketConfig, scorer: SocketScorer, logger: Logger) throws {
        self.config = config
        self.scorer = scorer
        self.logger = logger
        if case .unix(_, let group?) = config.endpoint {
            guard let entry = getgrnam(group) else {
                throw ScoringSocketError(
                    description: "--scoring-socket-group '\(group)' is not a group on this machine (see getent group)")
            }
            allowedGroupID = entry.pointee.gr_gid
            var members: Set<String> = []
            var member = entry.pointee.gr_mem
            while let name = member?.pointee {
                members.insert(String(cString: name))
                member = member?.advanced(by: 1)
            }
            allowedGroupMembers = members
        } else {
            allowedGroupID = nil
            allowedGroupMembers = []
        }
        switch config.endpoint {
        case .unix(let path, _):
            try takeLock(path)
            do {
                try bindUnix(path)
            } catch {
                close(lockFD)
                throw error
            }
        case .tcp(let address, _):
            try bindTCP(address)
        }
    }

    deinit {
        if listenFD >= 0 { close(listenFD) }
        if lockFD >= 0 { close(lockFD) }
    }

    private func takeLock(_ path: String) throws {
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ScoringSocketError(
                description: "cannot open \(lockPath): \(String(cString: strerror(errno))) (is the folder writable by this user?)")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ScoringSocketError(
                description: "another daemon serves the scoring socket \(path) (it holds \(lockPath)): give this one another --scoring-socket path, or stop the other")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        lockFD = fd
    }

    private func bindUnix(_ path: String) throws {
        var status = stat()
        if lstat(path, &status) == 0 {
            guard (status.st_mode & S_IFMT) == S_IFSOCK else {
                throw ScoringSocketError(description: "\(path) exists and is not a socket: choose another --scoring-socket path")
            }
            // We hold the lock, so a socket left here is a crashed daemon's.
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ScoringSocketError(description: "socket(): \(String(cString: strerror(errno)))") }
        var address = Self.address(path)
        // Created 0600 under umask, widened below only for the configured group.
        let previousMask = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(previousMask)
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ScoringSocketError(description: "cannot bind the scoring socket \(path): \(reason)")
        }
        if let gid = allowedGroupID {
            guard chown(path, uid_t.max, gid) == 0, chmod(path, 0o660) == 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(path)
                throw ScoringSocketError(
                    description: "cannot give \(path) to its group: \(reason) (this user must belong to the group)")
            }
        }
        guard listen(fd, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ScoringSocketError(description: "cannot listen on \(path): \(reason)")
        }
        listenFD = fd
    }

    private func bindTCP(_ address: HostPort) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(address.host, String(address.port), &hints, &found)
        guard rc == 0, let info = found else {
            throw ScoringSocketError(description: "cannot resolve --scoring-tcp \(address): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(found) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
        guard fd >= 0 else { throw ScoringSocketError(description: "socket(): \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(fd, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ScoringSocketError(description: "cannot listen on --scoring-tcp \(address): \(reason)")
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        boundPort = withUnsafePointer(to: &bound) { pointer in
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
        listenFD = fd
    }

    static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// Accepts connections until `close()`; each is served on its own thread.
    public func serve() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                lock.lock()
                let isClosing = closing
                lock.unlock()
                if isClosing { return }
                if errno == EMFILE || errno == ENFILE {
                    logger.warning("scoring socket: out of file descriptors, pausing accepts", metadata: [LogKey.error: "\(String(cString: strerror(errno)))"])
                    Thread.sleep(forTimeInterval: 0.05)
                    continue
                }
                logger.error("scoring socket: accept failed", metadata: [LogKey.error: "\(String(cString: strerror(errno)))"])
                return
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            lock.lock()
            if closing {
                lock.unlock()
                close(fd)
                return
            }
            connections.insert(fd)
            lock.unlock()
            let thread = Thread { [self] in
                serveConnection(fd)
                lock.lock()
                connections.remove(fd)
                lock.unlock()
                close(fd)
                drained.lock()
                drained.broadcast()
                drained.unlock()
            }
            thread.name = "galaxy.scoring-socket"
            thread.stackSize = 256 << 10
            thread.start()
        }
    }

    /// Stops accepting, ends idle connections, waits for the ones answering a request, then
    /// removes the socket and releases the lock (a restarted daemon may take the path at once).
    public func shutDown() {
        lock.lock()
        if closed {
            lock.unlock()
            return
        }
        closing = true
        // Readers blocked between requests see end of file; a reply being written still goes out.
        // Under the lock: a connection leaves the set before its descriptor is closed, so no
        // descriptor number reused elsewhere is shut down.
        for fd in connections { shutdown(fd, Int32(SHUT_RD)) }
        lock.unlock()
        if listenFD >= 0 { shutdown(listenFD, Int32(SHUT_RDWR)) }
        drained.lock()
        while true {
            lock.lock()
            let remaining = connections.count
            lock.unlock()
            if remaining == 0 { break }
            _ = drained.wait(until: Date().addingTimeInterval(0.1))
        }
        drained.unlock()
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        if case .unix(let path, _) = config.endpoint { unlink(path) }
        close(listenFD)
        listenFD = -1
        if lockFD >= 0 { close(lockFD) }
        lockFD = -1
    }

    /// Whether the peer may submit work: this daemon's user, root, or the configured group.
    private func peerAllowed(_ fd: Int32) -> (Bool, String) {
        var credentials = PeerCredentials()
        var length = socklen_t(MemoryLayout<PeerCredentials>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else {
            return (false, "its credentials cannot be read")
        }
        let who = "pid \(credentials.pid), uid \(credentials.uid), gid \(credentials.gid)"
        if credentials.uid == getuid() || credentials.uid == 0 { return (true, who) }
        if let gid = allowedGroupID {
            if credentials.gid == gid { return (true, who) }
            if let user = getpwuid(credentials.uid), allowedGroupMembers.contains(String(cString: user.pointee.pw_name)) {
                return (true, who)
            }
        }
        return (false, who)
    }

    /// A TCP peer must start with the shared secret.
    private func secretPresented(_ fd: Int32, _ secret: [UInt8]) -> (Bool, String) {
        guard let header = readExactly(fd, ScoringFrames.headerLength), Array(header[0..<4]) == Array("GZA1".utf8)
        else { return (false, "a TCP peer that did not start with the shared secret") }
        let length = Int(ScoringFrames.readU32(header, at: 4))
        guard length <= 4096, let presented = readExactly(fd, length) else {
            return (false, "a TCP peer with an oversized or cut secret")
        }
        // Constant time over the longer of the two, so the comparison does not leak a prefix.
        var difference = UInt8(presented.count == secret.count ? 0 : 1)
        for index in 0..<max(presented.count, secret.count) {
            let a = index < presented.count ? presented[index] : 0
            let b = index < secret.count ? secret[index] : 0
            difference |= a ^ b
        }
        return (difference == 0, difference == 0 ? "a TCP peer with the secret" : "a TCP peer with a wrong secret")
    }

    private func serveConnection(_ fd: Int32) {
        let (allowed, who): (Bool, String)
        switch config.endpoint {
        case .unix: (allowed, who) = peerAllowed(fd)
        case .tcp(_, let secret):
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            (allowed, who) = secretPresented(fd, secret)
        }
        guard allowed else {
            logger.warning("scoring socket: refused a peer", metadata: ["peer": "\(who)"])
            send(fd, .failed(
                code: "peer_refused", message: "this process (\(who)) may not submit images to the scoring daemon",
                hint: "Unix socket: run the daemon with --scoring-socket-group set to the PostgreSQL server's group; TCP: set galaxy.scoring_secret to the daemon's --scoring-secret-file."))
            return
        }
        while let request = readRequest(fd) {
            let answer = Answer()
            scorer.submit(request) { answer.set($0) }
            let replies = answer.wait()
            guard send(fd, frame: request.many ? ScoringFrames.encode(many: replies) : ScoringFrames.encode(replies[0]))
            else { return }
        }
    }

    /// The next request, or nil when the peer closed or sent something that is not one (it gets
    /// an error reply first).
    private func readRequest(_ fd: Int32) -> ScoringFrames.Request? {
        guard let header = readExactly(fd, ScoringFrames.headerLength) else { return nil }
        do {
            // The frame also holds the model fields: a little above the image limit; a GZM1 request
            // may carry several images of up to that size, within maxRequestBytes.
            let (length, many) = try ScoringFrames.requestBodyLength(header: header, maxBody: config.maxRequestBytes)
            guard many || length <= config.maxImageBytes + 1024 else {
                throw ScoringFrames.FrameError(
                    description: "the request has \(length) bytes, more than --scoring-socket-max-bytes allows (\(config.maxImageBytes))")
            }
            guard let body = readExactly(fd, length) else { return nil }
            let request = try ScoringFrames.decodeRequest(body: body, many: many)
            if let large = request.jpegs.firstIndex(where: { $0.count > config.maxImageBytes }) {
                throw ScoringFrames.FrameError(
                    description: "image \(large + 1) has \(request.jpegs[large].count) bytes, more than --scoring-socket-max-bytes allows (\(config.maxImageBytes))")
            }
            return request
        } catch {
            send(fd, .failed(code: "bad_request", message: "\(error)", hint: "Use galaxy.classify of the same version as the daemon."))
            return nil
        }
    }

    private func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var have = 0
        while have < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + have, count - have, 0) }
            if n > 0 {
                have += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return nil
            }
        }
        return buffer
    }

    @discardableResult
    private func send(_ fd: Int32, _ reply: ScoringFrames.Reply) -> Bool {
        send(fd, frame: ScoringFrames.encode(reply))
    }

    private func send(_ fd: Int32, frame: [UInt8]) -> Bool {
        var sent = 0
        while sent < frame.count {
            let n = frame.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, frame.count - sent, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                sent += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }
}

/// Linux's `struct ucred` (Glibc exports it only under _GNU_SOURCE).
private struct PeerCredentials {
    var pid: pid_t = 0
    var uid: uid_t = 0
    var gid: gid_t = 0
}

/// A request's replies handed from the scoring thread to the connection's thread.
private final class Answer: @unchecked Sendable {
    private let condition = NSCondition()
    private var reply: [ScoringFrames.Reply]?

    func set(_ value: [ScoringFrames.Reply]) {
        condition.lock()
        reply = value
        condition.signal()
        condition.unlock()
    }

    func wait() -> [ScoringFrames.Reply] {
        condition.lock()
        defer { condition.unlock() }
        while reply == nil { condition.wait() }
        return reply!
    }
}
