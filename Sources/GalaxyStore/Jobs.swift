/// A job handed to this daemon by `galaxy.claim_jobs`: it holds the lease until it completes or
/// fails the job, or the lease expires.
public struct ClaimedJob: Sendable, Hashable {
    /// The queue row's id.
    public var jobID: Int64
    /// The image to score.
    public var imageID: Int64
    /// The model to score with (a job queued without a model was resolved to the active one).
    public var modelID: Int64
    /// 1 on the first try.
    public var attempt: Int
    /// The image's JPEG bytes.
    public var jpeg: [UInt8]

    public init(jobID: Int64, imageID: Int64, modelID: Int64, attempt: Int, jpeg: [UInt8]) {
        self.jobID = jobID
        self.imageID = imageID
        self.modelID = modelID
        self.attempt = attempt
        self.jpeg = jpeg
    }
}

/// What scoring one image produced, ready for `galaxy.complete_jobs`.
public struct JobScore: Sendable, Hashable {
    /// The most probable low-level label of `galaxyClass` (see `Prediction`).
    public var label: String
    /// The high-level class: the morphology with the largest summed probability, then its largest class (`Prediction`).
    public var galaxyClass: String
    /// Probability per low-level label.
    public var probabilities: [String: Float]
    /// Decode, preprocess and inference time of this image, in milliseconds.
    public var latencyMilliseconds: Float

    public init(
        label: String, galaxyClass: String, probabilities: [String: Float], latencyMilliseconds: Float
    ) {
        self.label = label
        self.galaxyClass = galaxyClass
        self.probabilities = probabilities
        self.latencyMilliseconds = latencyMilliseconds
    }
}

/// A scored job, ready for `galaxy.complete_jobs`.
public struct JobCompletion: Sendable, Hashable {
    public var jobID: Int64
    /// The model that scored it (its preprocessing is recorded with the prediction).
    public var modelID: Int64
    public var score: JobScore
    public init(jobID: Int64, modelID: Int64, score: JobScore) {
        self.jobID = jobID
        self.modelID = modelID
        self.score = score
    }
}

/// A job that could not be scored and what `RetryPolicy` decided, ready for `galaxy.fail_jobs`.
public struct JobFailure: Sendable, Hashable {
    public var jobID: Int64
    public var error: JobError
    /// Seconds until the next attempt; nil fails the job now (a permanent error).
    public var retryAfterSeconds: Double?
    public init(jobID: Int64, error: JobError, retryAfterSeconds: Double?) {
        self.jobID = jobID
        self.error = error
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// One claimed batch after scoring: what `complete_jobs` and `fail_jobs` write in one transaction,
/// so one bad image never holds back the others.
public struct BatchResult: Sendable, Hashable {
    /// Jobs that scored, in claim order.
    public var completions: [JobCompletion]
    /// Jobs that failed, with their errors, in claim order.
    public var failures: [JobFailure]

    public init(completions: [JobCompletion], failures: [JobFailure]) {
        self.completions = completions
        self.failures = failures
    }

    /// Every job id in the batch.
    public var jobIDs: [Int64] { completions.map(\.jobID) + failures.map(\.jobID) }
    /// How many jobs the batch holds.
    public var count: Int { completions.count + failures.count }
}

/// What the database answered to one batch commit.
public struct CommitReceipt: Sendable, Hashable {
    /// Jobs completed by this commit (this daemon still held their lease).
    public var completed: [Int64]
    /// Jobs that failed for good (attempts exhausted) and moved to `galaxy.failed_jobs`.
    public var failedForGood: [Int64]

    public init(completed: [Int64], failedForGood: [Int64]) {
        self.completed = completed
        self.failedForGood = failedForGood
    }
}
