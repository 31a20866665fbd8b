import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A minimal HTTP/1.1 listener for `/metrics` (and `/healthz`) on a dedicated thread, for
/// `galaxy serve --metrics-address`. One request per connection, then close: Prometheus scrapes
/// need nothing more. `galaxy web` serves the same text through its own HTTP server.
public final class MetricsServer: @unchecked Sendable {
    private let socketFD: Int32
    private let render: @Sendable () -> String
    private let lock = NSLock()
    private var closed = false
    private let finished = DispatchSemaphore(value: 0)

    /// The port actually bound (useful when asked for port 0).
    public let port: Int

    /// Binds and starts serving at once.
    /// - Parameters:
    ///   - address: where to listen; port 0 picks a free port.
    ///   - render: produces the metrics text for each scrape.
    /// - Throws: `MetricsServerError` naming the address and the failed call.
    public init(address: HostPort, render: @escaping @Sendable () -> String) throws(MetricsServerError) {
        self.render = render
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var info: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(address.host, String(address.port), &hints, &info)
        guard status == 0, let first = info else {
            throw MetricsServerError(
                address: address, call: "getaddrinfo", detail: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(info) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else {
            throw MetricsServerError(address: address, call: "socket", detail: Self.lastError())
        }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let detail = Self.lastError()
            close(fd)
            throw MetricsServerError(address: address, call: "bind", detail: detail)
        }
        guard listen(fd, 16) == 0 else {
            let detail = Self.lastError()
            close(fd)
            throw MetricsServerError(address: address, call: "listen", detail: detail)
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let boundPort = withUnsafeMutablePointer(to: &storage) { pointer -> Int in
            _ = pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            if Int32(pointer.pointee.ss_family) == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                Int(UInt16(bigEndian: $0.pointee.sin_port))
            }
        }
        self.socketFD = fd
        self.port = boundPort
        let thread = Thread { [self] in self.acceptLoop() }
        thread.name = "galaxy-metrics"
        thread.start()
    }

    /// Stops listening and waits for the listener thread to end.
    public func stop() {
        lock.lock()
        let wasClosed = closed
        closed = true
        lock.unlock()
        guard !wasClosed else { return }
        shutdown(socketFD, Int32(SHUT_RDWR))
        close(socketFD)
        finished.wait()
    }

    deinit { stop() }

    private var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return closed
    }

    private func acceptLoop() {
        defer { finished.signal() }
        while !isClosed {
            let client = accept(socketFD, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return  // the socket was closed by stop()
            }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        // Read until the end of the request head; a scrape sends no body.
        while request.count < 16_384 {
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            request += buffer[0..<n]
            if request.count >= 4, request.suffix(4) == [13, 10, 13, 10] { break }
            if request.firstRange(of: [13, 10, 13, 10]) != nil { break }
        }
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let response: (status: String, type: String, body: String)
        if parts.count < 2 {
            response = ("400 Bad Request", "text/plain", "bad request\n")
        } else if parts[0] != "GET" && parts[0] != "HEAD" {
            response = ("405 Method Not Allowed", "text/plain", "only GET\n")
        } else {
            let path = parts[1].split(separator: "?").first.map(String.init) ?? ""
            switch path {
            case "/metrics": response = ("200 OK", "text/plain; version=0.0.4; charset=utf-8", render())
            case "/healthz": response = ("200 OK", "text/plain", "ok\n")
            default: response = ("404 Not Found", "text/plain", "not found: try /metrics\n")
            }
        }
        let body = Array(response.body.utf8)
        var bytes = Array(
            "HTTP/1.1 \(response.status)\r\nContent-Type: \(response.type)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
                .utf8)
        if parts.first != "HEAD" { bytes += body }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes {
                send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { break }
            sent += n
        }
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}

/// The metrics listener could not start.
public struct MetricsServerError: Error, CustomStringConvertible, Sendable {
    public var address: HostPort
    public var call: String
    public var detail: String
    public var description: String {
        "cannot serve metrics on \(address): \(call) failed: \(detail). Choose another --metrics-address."
    }
}
