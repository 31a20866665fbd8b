import GalaxyImage
import GalaxyService
import Testing

/// The one retry policy: every failure class, the delays and how a batch carries the decision.
@Suite struct RetryPolicyTests {
    static let imageCodes: [JobError.Code] = [
        .emptyImage, .notJPEG, .truncatedImage, .unsupportedImage, .oversizedImage, .corruptImage,
    ]

    @Test func badImageBytesAndAMissingModelFailAtOnce() {
        let policy = RetryPolicy(retryBaseSeconds: 2)
        for code in Self.imageCodes + [.modelMissing] {
            #expect(RetryPolicy.isPermanent(code), "\(code)")
            #expect(policy.retryDelay(after: code, attempt: 1) == nil, "\(code)")
        }
    }

    @Test func anUnusableModelAndAnExpiredLeaseAreRetriedWithDoublingDelays() {
        let policy = RetryPolicy(retryBaseSeconds: 2, maxDelaySeconds: 10)
        for code in [JobError.Code.modelUnusable, .leaseExpired] {
            #expect(!RetryPolicy.isPermanent(code), "\(code)")
            #expect((1...4).map { policy.retryDelay(after: code, attempt: $0) } == [2, 4, 8, 10])
        }
        #expect(RetryPolicy(retryBaseSeconds: 0).retryDelay(after: .modelUnusable, attempt: 3) == 0)
    }

    @Test func everyCodeHasADecision() {
        let permanent = Set(JobError.Code.allCases.filter(RetryPolicy.isPermanent))
        #expect(permanent == Set(Self.imageCodes + [.modelMissing]))
        #expect(Set(JobError.Code.allCases).subtracting(permanent) == [.modelUnusable, .leaseExpired])
    }

    @Test func eachDecoderFailureKeepsItsKind() {
        let pairs: [(ImageError.Code, JobError.Code)] = [
            (.empty, .emptyImage), (.notJPEG, .notJPEG), (.truncated, .truncatedImage),
            (.unsupported, .unsupportedImage), (.tooLarge, .oversizedImage), (.corrupt, .corruptImage),
        ]
        for (image, job) in pairs {
            let error = JobError(imageID: 7, imageError: ImageError(image, "why"))
            #expect(error.code == job)
            #expect(error.message.hasPrefix("decode image 7: "))
        }
    }

    @Test func aBatchCarriesEachFailuresDecisionForItsAttempt() {
        let jobs = [1, 2, 3].map {
            ClaimedJob(jobID: Int64($0), imageID: Int64($0), modelID: 1, attempt: $0, jpeg: [])
        }
        let truncated = JobError(.truncatedImage, "decode image 1: Premature end of JPEG file")
        let unusable = JobError(.modelUnusable, "model 'm' could not be loaded")
        let score = JobScore(label: "Sa", galaxyClass: "Spiral", probabilities: ["Sa": 1], latencyMilliseconds: 1)
        let batch = BatchResult(
            jobs: jobs, outcomes: [.failed(truncated), .failed(unusable), .scored(score)],
            policy: RetryPolicy(retryBaseSeconds: 3))
        #expect(
            batch.failures == [
                JobFailure(jobID: 1, error: truncated, retryAfterSeconds: nil),
                JobFailure(jobID: 2, error: unusable, retryAfterSeconds: 6),
            ])
        #expect(batch.completions.map(\.jobID) == [3])
    }
}
