/// Why one job could not be scored. The code is what `RetryPolicy` decides on and what
/// `galaxy.failed_jobs.error_code` records; the message says what was wrong with which row.
public struct JobError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stored as the raw value; docs/daemon.md lists them with the retry decision for each.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The image row holds no bytes.
        case emptyImage = "empty_image"
        /// The bytes are not a JPEG.
        case notJPEG = "not_jpeg"
        /// The JPEG stops before its end.
        case truncatedImage = "truncated_image"
        /// A JPEG variant the decoder does not handle (12-bit, lossless, ...).
        case unsupportedImage = "unsupported_image"
        /// More pixels than the decoder's limit.
        case oversizedImage = "oversized_image"
        /// The JPEG's data is damaged.
        case corruptImage = "corrupt_image"
        /// The job's model could not be loaded by this daemon.
        case modelUnusable = "model_unusable"
        /// The job's model is no longer in `galaxy.models`.
        case modelMissing = "model_missing"
        /// A daemon's lease ran out while it scored the job (it died or stopped); written by
        /// `galaxy.retire_abandoned_jobs`, never by a daemon.
        case leaseExpired = "lease_expired"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
