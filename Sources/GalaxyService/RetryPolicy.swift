/// The one retry policy of the scoring service: which failures end a job at once, and how long a
/// transient one waits before its next attempt. The daemon decides with it and `galaxy.fail_jobs`
/// only applies the decision; the number of attempts is each queue row's `max_attempts`
/// (default 3), since an enqueuer may want more or fewer for its own jobs.
///
/// Database failures never fail a job: the daemon reconnects with `Backoff.reconnect` and the
/// leases it held are given back (`release_jobs`), with their attempts.
public struct RetryPolicy: Sendable, Hashable {
    /// The delay after a failed attempt doubles from this, up to `maxDelaySeconds`; 0 retries at once.
    public var retryBaseSeconds: Double
    public var maxDelaySeconds: Double

    public init(retryBaseSeconds: Double, maxDelaySeconds: Double = 3600) {
        precondition(retryBaseSeconds >= 0 && maxDelaySeconds >= retryBaseSeconds, "retry delays need 0 <= base <= max")
        self.retryBaseSeconds = retryBaseSeconds
        self.maxDelaySeconds = maxDelaySeconds
    }

    /// Whether another attempt cannot succeed. Bad image bytes stay bad (the job fails at once and
    /// `predict_galaxy` says so without waiting); a model one daemon cannot load may load on
    /// another or after it is fixed, and a lease that expired says nothing about the image.
    public static func isPermanent(_ code: JobError.Code) -> Bool {
        switch code {
        case .emptyImage, .notJPEG, .truncatedImage, .unsupportedImage, .oversizedImage, .corruptImage,
            .modelMissing:
            return true
        case .modelUnusable, .leaseExpired:
            return false
        }
    }

    /// Seconds to wait before the attempt after `attempt` (1-based) failed with `code`, or nil
    /// when the job fails now: base * 2^(attempt-1), at most `maxDelaySeconds`.
    public func retryDelay(after code: JobError.Code, attempt: Int) -> Double? {
        guard !Self.isPermanent(code) else { return nil }
        guard retryBaseSeconds > 0 else { return 0 }
        return Backoff(baseSeconds: retryBaseSeconds, maxSeconds: maxDelaySeconds).nominalDelay(attempt: attempt)
    }
}
