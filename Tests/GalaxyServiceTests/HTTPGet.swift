import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Raw HTTP/1.1 over loopback sockets, so listeners are tested byte for byte and idle or
/// long-lived connections can be held open on purpose.
enum HTTPGet {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A GET with `Connection: close`, read to the end.
    static func fetch(port: Int, path: String, timeoutSeconds: Int = 20) throws -> String {
        let connection = try Connection(port: port, timeoutSeconds: timeoutSeconds)
        try connection.send("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        return connection.readToEnd()
    }

    /// An open TCP connection.
    final class Connection {
        let fd: Int32

        init(port: Int, timeoutSeconds: Int = 20) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Failure(description: "socket failed") }
            var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                close(fd)
                throw Failure(description: "connect to port \(port) failed")
            }
        }

        deinit { close(fd) }

        func send(_ text: String) throws {
            let bytes = Array(text.utf8)
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            guard sent == bytes.count else { throw Failure(description: "send failed") }
        }

        /// Reads until `marker` has arrived (or the peer closes, or the timeout passes).
        func read(until marker: String) -> String {
            var text = ""
            while !text.contains(marker), let chunk = readChunk() { text += chunk }
            return text
        }

        /// Reads until the peer closes the connection (or the timeout passes).
        func readToEnd() -> String {
            var text = ""
            while let chunk = readChunk() { text += chunk }
            return text
        }

        private func readChunk() -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
        }
    }

    /// A port nothing listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw Failure(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
