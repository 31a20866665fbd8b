import Foundation

/// How many requests one token may make: `burst` at once, refilled at `perSecond`.
public struct RateLimit: Sendable, Hashable {
    /// Tokens added to the bucket per second.
    public var perSecond: Double
    /// The bucket's size: requests allowed back to back after a quiet period.
    public var burst: Double

    public init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// No limit at all (benchmarks).
    public static let unlimited = RateLimit(perSecond: .infinity, burst: .infinity)
}

/// A token bucket per key (the API token's id): each request takes one, the bucket refills at
/// `perSecond` up to `burst`. The clock is passed in, so the behaviour is testable without waiting.
final class RateLimiter: @unchecked Sendable {
    struct Bucket {
        var level: Double
        var updated: Double
    }

    private let limit: RateLimit
    private let lock = NSLock()
    private var buckets: [Int64: Bucket] = [:]

    init(limit: RateLimit) {
        self.limit = limit
    }

    /// Takes one request from `key`'s bucket at time `now` (seconds). Returns nil when allowed,
    /// or the seconds to wait until the next request would be allowed.
    func take(_ key: Int64, now: Double) -> Double? {
        if limit.perSecond.isInfinite { return nil }
        lock.lock()
        defer { lock.unlock() }
        var bucket = buckets[key] ?? Bucket(level: limit.burst, updated: now)
        let elapsed = max(0, now - bucket.updated)
        bucket.level = min(limit.burst, bucket.level + elapsed * limit.perSecond)
        bucket.updated = now
        if bucket.level >= 1 {
            bucket.level -= 1
            buckets[key] = bucket
            return nil
        }
        buckets[key] = bucket
        return (1 - bucket.level) / limit.perSecond
    }

    /// Seconds on a monotonic clock.
    static func now() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) / 1e9
    }
}
