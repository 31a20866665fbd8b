/// Exponential backoff with a cap: the delay before reconnect number `attempt` (1-based), and
/// (through `RetryPolicy`) the delay before a failed job is retried.
public struct Backoff: Sendable, Hashable {
    /// The first delay, in seconds.
    public var baseSeconds: Double
    /// No delay is longer than this, in seconds.
    public var maxSeconds: Double
    /// Fraction of the delay that is randomised (0 = none, 0.2 = up to 20 % shorter), so many
    /// daemons that lost the same server do not reconnect in lockstep.
    public var jitter: Double

    public init(baseSeconds: Double, maxSeconds: Double, jitter: Double = 0) {
        precondition(baseSeconds > 0 && maxSeconds >= baseSeconds, "backoff needs 0 < base <= max")
        precondition((0...1).contains(jitter), "backoff jitter is a fraction in 0...1")
        self.baseSeconds = baseSeconds
        self.maxSeconds = maxSeconds
        self.jitter = jitter
    }

    /// Reconnecting to PostgreSQL: 0.25 s, 0.5 s, 1 s ... up to 10 s, with 20 % jitter.
    public static let reconnect = Backoff(baseSeconds: 0.25, maxSeconds: 10, jitter: 0.2)

    /// The delay before try `attempt` (1-based) without jitter: base * 2^(attempt-1), capped.
    public func nominalDelay(attempt: Int) -> Double {
        let exponent = Double(max(0, attempt - 1))
        // Clamp the exponent so 2^exponent cannot overflow to infinity for absurd attempt counts.
        return min(maxSeconds, baseSeconds * Double.pow2(min(exponent, 60)))
    }

    /// The delay before try `attempt`, with jitter drawn from `random` (a value in 0..<1).
    public func delay(attempt: Int, random: Double) -> Double {
        let nominal = nominalDelay(attempt: attempt)
        return nominal * (1 - jitter * min(max(random, 0), 1))
    }

    /// The delay before try `attempt`, with system-random jitter.
    public func delay(attempt: Int) -> Double {
        delay(attempt: attempt, random: Double.random(in: 0..<1))
    }
}

extension Double {
    fileprivate static func pow2(_ exponent: Double) -> Double {
        var result = 1.0
        var e = Int(exponent)
        while e > 0 {
            result *= 2
            e -= 1
        }
        return result
    }
}
