/// Where and for whom the daemon listens for `galaxy.classify` (docs/scoring-socket.md).
public struct ScoringSocketConfig: Sendable, Hashable {
    /// `sockaddr_un` holds 108 bytes with the terminating NUL.
    public static let maxPathBytes = 108
    /// The shortest shared secret accepted for TCP.
    public static let minSecretBytes = 16

    public enum Endpoint: Sendable, Hashable {
        /// A Unix socket; `PATH.lock` beside it keeps a second daemon from taking it over. `group`
        /// may connect (mode 0660), typically the PostgreSQL server's; nil: only this daemon's own
        /// user (mode 0600).
        case unix(path: String, group: String?)
        /// A TCP port for backends on other machines; each connection starts with `secret`.
        case tcp(HostPort, secret: [UInt8])
    }

    public var endpoint: Endpoint
    /// The largest image accepted; the same default as `galaxy.classify_max_bytes`.
    public var maxImageBytes: Int = 32 << 20
    /// The largest request frame (a `galaxy.classify_many` array of images).
    public var maxRequestBytes: Int = 256 << 20

    public init(path: String, group: String? = nil) {
        endpoint = .unix(path: path, group: group)
    }

    public init(tcp address: HostPort, secret: [UInt8]) {
        endpoint = .tcp(address, secret: secret)
    }

    /// The Unix socket's path, or `tcp://HOST:PORT`: what `galaxy.scoring_socket` is set to.
    public var path: String {
        switch endpoint {
        case .unix(let path, _): return path
        case .tcp(let address, _): return "tcp://\(address)"
        }
    }
}
