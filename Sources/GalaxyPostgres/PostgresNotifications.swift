import CLibPQ
import Foundation

/// A `NOTIFY` received on a connection that LISTENs.
public struct PostgresNotification: Sendable, Hashable {
    /// The channel name.
    public var channel: String
    /// The payload (empty when none was given).
    public var payload: String
    /// The backend process id of the session that sent it.
    public var processID: Int32
}

/// Wakes a thread blocked in `waitForNotifications` from another thread (for shutdown), through
/// a pipe polled together with the connection's socket.
public final class PostgresWaitInterrupter: @unchecked Sendable {
    let readFD: Int32
    let writeFD: Int32

    /// - Throws: `PostgresError` of kind `.usage` when the process is out of file descriptors.
    public init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw PostgresError(kind: .usage, message: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        readFD = fds[0]
        writeFD = fds[1]
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// Makes the current or next wait return at once. Safe from any thread.
    public func interrupt() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    /// Empties the pipe; returns whether an interrupt was pending.
    func drain() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64)
        var any = false
        while read(readFD, &buffer, buffer.count) > 0 { any = true }
        return any
    }
}

extension PostgresConnection {
    /// Starts listening on `channel` (remembered, so `reconnect` listens again).
    public func listen(_ channel: String) throws {
        try lock.withLock {
            try execute(PostgresQuery(unsafeSQL: "LISTEN " + PostgresQuery.quoteIdentifier(channel)))
            if !listenedChannels.contains(channel) { listenedChannels.append(channel) }
        }
    }

    /// Stops listening on `channel`.
    public func unlisten(_ channel: String) throws {
        try lock.withLock {
            try execute(PostgresQuery(unsafeSQL: "UNLISTEN " + PostgresQuery.quoteIdentifier(channel)))
            listenedChannels.removeAll { $0 == channel }
        }
    }

    /// Stops listening on every channel.
    public func unlistenAll() throws {
        try lock.withLock {
            try execute("UNLISTEN *")
            listenedChannels.removeAll()
        }
    }

    /// The channels this connection listens on.
    public var channels: [String] { lock.withLock { listenedChannels } }

    /// Sends a notification (delivered when the current transaction commits).
    public func notify(_ channel: String, payload: String = "") throws {
        try execute("select pg_notify(\(channel), \(payload))")
    }

    /// Waits until at least one notification arrives, `timeout` seconds pass, or `interrupter`
    /// fires, sleeping in `poll()` on the connection's socket (no busy polling).
    ///
    /// - Returns: the notifications received, oldest first; empty on timeout or interrupt.
    /// - Throws: `PostgresError` of kind `.connection` when the connection is lost while waiting.
    public func waitForNotifications(
        timeout: Double, interrupter: PostgresWaitInterrupter? = nil
    ) throws -> [PostgresNotification] {
        try lock.withLock {
            let deadline = Date().addingTimeInterval(max(0, timeout))
            while true {
                guard PQconsumeInput(conn) == 1 else { throw connectionError(statement: nil) }
                let received = drainNotifications()
                if !received.isEmpty { return received }
                if let interrupter, interrupter.drain() { return [] }
                let remaining = deadline.timeIntervalSinceNow
                if remaining <= 0 { return [] }
                let socket = PQsocket(conn)
                guard socket >= 0 else { throw connectionError(statement: nil) }
                var fds = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0)]
                if let interrupter { fds.append(pollfd(fd: interrupter.readFD, events: Int16(POLLIN), revents: 0)) }
                let milliseconds = Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up))
                let ready = poll(&fds, nfds_t(fds.count), milliseconds)
                if ready < 0 && errno != EINTR {
                    throw PostgresError(kind: .connection, message: "poll failed: \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    /// Notifications that already arrived, without waiting.
    public func pendingNotifications() throws -> [PostgresNotification] {
        try lock.withLock {
            guard PQconsumeInput(conn) == 1 else { throw connectionError(statement: nil) }
            return drainNotifications()
        }
    }

    private func drainNotifications() -> [PostgresNotification] {
        var out: [PostgresNotification] = []
        while let notify = PQnotifies(conn) {
            let n = notify.pointee
            out.append(
                PostgresNotification(
                    channel: String(cString: n.relname), payload: n.extra.map { String(cString: $0) } ?? "",
                    processID: n.be_pid))
            PQfreemem(notify)
        }
        return out
    }
}
