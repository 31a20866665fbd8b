/// Where and for whom the daemon listens for `galaxy.classify` (docs/scoring-socket.md).
public struct ScoringSocketConfig: Sendable, Hashable {
    /// `sockaddr_un` holds 108 bytes with the terminating NUL.
    public static let maxPathBytes = 108

    /// The socket's path; `PATH.lock` beside it keeps a second daemon from taking it over.
    public var path: String
    /// The group that may connect (mode 0660), typically the PostgreSQL server's; nil: only this
    /// daemon's own user (mode 0600).
    public var group: String?
    /// The largest image accepted; the same default as `galaxy.classify_max_bytes`.
    public var maxImageBytes: Int = 32 << 20
    /// The largest request frame (a `galaxy.classify_many` array of images).
    public var maxRequestBytes: Int = 256 << 20
    /// The most images scored in one batch.
    public var maxBatch: Int = 64

    public init(path: String, group: String? = nil) {
        self.path = path
        self.group = group
    }
}
