import GalaxyStore

/// The result of scoring one claimed job: a score, or the error that stops it (a corrupt JPEG, a
/// model that cannot be loaded).
public enum JobOutcome: Sendable, Hashable {
    case scored(JobScore)
    case failed(JobError)
}

extension BatchResult {
    /// Pairs each job with its outcome, `policy` deciding each failure; `outcomes` must have one
    /// entry per job.
    public init(jobs: [ClaimedJob], outcomes: [JobOutcome], policy: RetryPolicy) {
        precondition(jobs.count == outcomes.count, "one outcome per claimed job")
        var completions: [JobCompletion] = []
        var failures: [JobFailure] = []
        for (job, outcome) in zip(jobs, outcomes) {
            switch outcome {
            case .scored(let score):
                completions.append(JobCompletion(jobID: job.jobID, modelID: job.modelID, score: score))
            case .failed(let error):
                failures.append(
                    JobFailure(
                        jobID: job.jobID, error: error,
                        retryAfterSeconds: policy.retryDelay(after: error.code, attempt: job.attempt)))
            }
        }
        self.init(completions: completions, failures: failures)
    }
}
