import GalaxyService
import Testing

@Suite struct ScoringStateMachineTests {
    private func job(_ id: Int64, model: Int64 = 1) -> ClaimedJob {
        ClaimedJob(jobID: id, imageID: id * 10, modelID: model, attempt: 1, jpeg: [0xFF, 0xD8])
    }

    private func score(_ label: String) -> JobOutcome {
        .scored(
            JobScore(label: label, galaxyClass: "Spiral", probabilities: [label: 1], latencyMilliseconds: 2))
    }

    private func machine(batchSize: Int = 2) -> ScoringStateMachine {
        ScoringStateMachine(batchSize: batchSize, retryPolicy: RetryPolicy(retryBaseSeconds: 2), randomJitter: { 0 })
    }

    /// Drives a fresh machine to the point where it claims.
    private func started(batchSize: Int = 2) -> ScoringStateMachine {
        var m = machine(batchSize: batchSize)
        #expect(m.start() == .connect)
        #expect(m.connected() == .releaseStaleLeases)
        #expect(m.staleLeasesReleased() == .claim(maxJobs: batchSize))
        return m
    }

    @Test func claimsScoresAndCommitsOneTransactionPerBatch() {
        var m = started()
        let jobs = [job(1), job(2)]
        // A full batch: the next one is claimed ahead while this one scores.
        #expect(m.claimed(jobs) == .score(jobs, startedAhead: false, claimAhead: 2))
        #expect(m.holdsWork)
        let truncated = JobError(.truncatedImage, "decode image 20: Premature end of JPEG file")
        let action = m.scored([score("Sa"), .failed(truncated)])
        guard case .commit(let batch, let scoreAhead) = action else {
            Issue.record("expected a commit, got \(action)")
            return
        }
        #expect(scoreAhead.isEmpty)
        #expect(batch.completions.map(\.jobID) == [1])
        #expect(
            batch.failures == [JobFailure(jobID: 2, error: truncated, retryAfterSeconds: nil)])
        let (next, summary) = m.committed(CommitReceipt(completed: [1], failedForGood: [2]))
        #expect(summary == .init(completed: 1, retried: 0, failedForGood: 1, lostLease: 0))
        // A non-empty batch is followed by another claim at once.
        #expect(next == .claim(maxJobs: 2))
        #expect(m.claimed([]) == .waitForWork)
        #expect(!m.holdsWork)
    }

    @Test func emptyClaimWaitsAndWakeUpClaimsAgain() {
        var m = started()
        #expect(m.claimed([]) == .waitForWork)
        #expect(m.wokeUp() == .claim(maxJobs: 2))
        // A notification while claiming is absorbed: the loop claims again after its batch.
        #expect(m.wokeUp() == nil)
        // Less than a batch: nothing is claimed ahead.
        #expect(m.claimed([job(1)]) == .score([job(1)], startedAhead: false, claimAhead: nil))
        #expect(m.wokeUp() == nil)
    }

    @Test func scoredJobsWhoseLeaseMovedOnAreCountedNotCompleted() {
        var m = started()
        _ = m.claimed([job(1), job(2)])
        _ = m.scored([score("Sa"), score("Sb")])
        let (_, summary) = m.committed(CommitReceipt(completed: [2], failedForGood: []))
        #expect(summary.completed == 1)
        #expect(summary.lostLease == 1)
    }

    @Test func failuresPastMaxAttemptsAreCountedAsFailedForGood() {
        var m = started()
        _ = m.claimed([job(1), job(2)])
        let unusable = JobError(.modelUnusable, "model 1 could not be loaded")
        _ = m.scored([.failed(unusable), .failed(unusable)])
        let (_, summary) = m.committed(CommitReceipt(completed: [], failedForGood: [2]))
        #expect(summary == .init(completed: 0, retried: 1, failedForGood: 1, lostLease: 0))
    }

    @Test func lostConnectionDuringCommitCommitsTheSameBatchAgainAfterReconnect() {
        var m = started()
        _ = m.claimed([job(1)])
        let commit = m.scored([score("Ei")])
        #expect(m.databaseFailed() == .waitToReconnect(seconds: 0.25, attempt: 1))
        #expect(m.holdsWork)
        #expect(m.reconnectDelayElapsed() == .connect)
        // The server is still down: the delay doubles.
        #expect(m.databaseFailed() == .waitToReconnect(seconds: 0.5, attempt: 2))
        #expect(m.reconnectDelayElapsed() == .connect)
        #expect(m.connected() == commit)
        let (next, summary) = m.committed(CommitReceipt(completed: [1], failedForGood: []))
        #expect(summary.completed == 1)
        // Then leases left over from before the failure are given back, and work resumes.
        #expect(next == .releaseStaleLeases)
        #expect(m.staleLeasesReleased() == .claim(maxJobs: 2))
        #expect(!m.holdsWork)
    }

    @Test func lostConnectionWhileClaimingReconnectsAndReleasesStaleLeases() {
        var m = started()
        #expect(m.databaseFailed() == .waitToReconnect(seconds: 0.25, attempt: 1))
        #expect(m.reconnectDelayElapsed() == .connect)
        #expect(m.connected() == .releaseStaleLeases)
    }

    @Test func reconnectDelayIsCappedAtTenSeconds() {
        var m = machine()
        _ = m.start()
        var last = 0.0
        for attempt in 2...20 {
            guard case .waitToReconnect(let seconds, let n) = m.databaseFailed() else {
                Issue.record("expected a reconnect wait")
                return
            }
            #expect(n == attempt)
            last = seconds
            _ = m.reconnectDelayElapsed()
        }
        #expect(last == 10)
    }

    @Test func shutdownWhileIdleReleasesLeasesAndExits() {
        var m = started()
        _ = m.claimed([])
        #expect(m.requestShutdown() == .releaseLeasesAndStop)
        #expect(m.stopped() == .exit)
        #expect(m.isStopped)
    }

    @Test func shutdownWhileScoringFinishesTheBatchFirst() {
        var m = started()
        _ = m.claimed([job(1), job(2)])
        #expect(m.requestShutdown() == nil)
        guard case .commit = m.scored([score("Sa"), score("Sb")]) else {
            Issue.record("the in-flight batch must still be committed")
            return
        }
        let (next, _) = m.committed(CommitReceipt(completed: [1, 2], failedForGood: []))
        #expect(next == .releaseLeasesAndStop)
        #expect(m.stopped() == .exit)
    }

    @Test func shutdownWhileClaimingStopsInsteadOfScoringNothing() {
        var m = started()
        #expect(m.requestShutdown() == nil)
        #expect(m.claimed([]) == .releaseLeasesAndStop)
    }

    @Test func shutdownWhileTheServerIsAwayExits() {
        var m = started()
        _ = m.databaseFailed()
        #expect(m.requestShutdown() == .exit)
        #expect(m.isStopped)
    }

    @Test func shutdownWithAnUncommittedBatchTriesOneReconnectThenGivesUp() {
        var m = started()
        _ = m.claimed([job(1)])
        _ = m.scored([score("Sa")])
        _ = m.databaseFailed()
        #expect(m.requestShutdown() == nil)
        #expect(m.reconnectDelayElapsed() == .connect)
        #expect(m.databaseFailed() == .exit)
    }

    @Test func failureWhileStoppingExits() {
        var m = started()
        _ = m.claimed([])
        _ = m.requestShutdown()
        #expect(m.databaseFailed() == .exit)
    }

    // MARK: pipelining

    private func full(_ ids: [Int64]) -> [ClaimedJob] { ids.map { job($0) } }

    @Test func aBatchClaimedAheadScoresWhileThePreviousCommitsAndIsNotClaimedAgain() {
        var m = started()
        #expect(m.claimed(full([1, 2])) == .score(full([1, 2]), startedAhead: false, claimAhead: 2))
        let commit = m.scored([score("Sa"), score("Sb")], claimedAhead: full([3, 4]))
        guard case .commit(let batch, let scoreAhead) = commit else {
            Issue.record("expected a commit, got \(commit)")
            return
        }
        #expect(batch.jobIDs == [1, 2] && scoreAhead == full([3, 4]))
        let (next, _) = m.committed(CommitReceipt(completed: [1, 2], failedForGood: []))
        // The batch ahead is already scoring: the machine waits for it instead of claiming.
        #expect(next == .score(full([3, 4]), startedAhead: true, claimAhead: 2))
        guard case .commit(let second, let nothingAhead) = m.scored([score("Sa"), score("Sb")], claimedAhead: []) else {
            Issue.record("expected the batch ahead to commit")
            return
        }
        #expect(second.jobIDs == [3, 4] && nothingAhead.isEmpty)
        let (after, _) = m.committed(CommitReceipt(completed: [3, 4], failedForGood: []))
        #expect(after == .claim(maxJobs: 2))
    }

    @Test func shutdownLeavesJobsClaimedAheadUnscoredForReleaseJobs() {
        var m = started()
        _ = m.claimed(full([1, 2]))
        #expect(m.requestShutdown() == nil)
        // Claimed ahead before the request was seen: committed without scoring them.
        #expect(
            m.scored([score("Sa"), score("Sb")], claimedAhead: full([3, 4]))
                == .commit(BatchResult(jobs: full([1, 2]), outcomes: [score("Sa"), score("Sb")], policy: .init(retryBaseSeconds: 2)), scoreAhead: []))
        let (next, _) = m.committed(CommitReceipt(completed: [1, 2], failedForGood: []))
        // release_jobs gives their leases (and attempts) back.
        #expect(next == .releaseLeasesAndStop)
        #expect(m.stopped() == .exit)
    }

    @Test func shutdownWhileABatchScoresAheadAbandonsItThenReleasesTheLeases() {
        var m = started()
        _ = m.claimed(full([1, 2]))
        _ = m.scored([score("Sa"), score("Sb")], claimedAhead: full([3, 4]))
        // The request arrives while the first batch commits and the second scores.
        #expect(m.requestShutdown() == nil)
        let (next, _) = m.committed(CommitReceipt(completed: [1, 2], failedForGood: []))
        #expect(next == .abandonAhead)
        #expect(m.aheadAbandoned() == .releaseLeasesAndStop)
        #expect(m.stopped() == .exit)
    }

    @Test func aLostConnectionDuringTheCommitAbandonsTheBatchAheadAndCommitsTheFirstAgain() {
        var m = started()
        _ = m.claimed(full([1, 2]))
        let commit = m.scored([score("Sa"), score("Sb")], claimedAhead: full([3, 4]))
        #expect(m.databaseFailed() == .abandonAhead)
        #expect(m.aheadAbandoned() == .waitToReconnect(seconds: 0.25, attempt: 1))
        #expect(m.reconnectDelayElapsed() == .connect)
        // The first batch is committed again, never the one ahead, whose leases are released.
        guard case .commit(let batch, _) = commit else { return }
        #expect(m.connected() == .commit(batch, scoreAhead: []))
        let (next, _) = m.committed(CommitReceipt(completed: [1, 2], failedForGood: []))
        #expect(next == .releaseStaleLeases)
        #expect(m.staleLeasesReleased() == .claim(maxJobs: 2))
    }

    @Test func aFailedClaimAheadStillCommitsTheScoredBatchAfterReconnecting() {
        var m = started()
        _ = m.claimed(full([1, 2]))
        // The daemon reports the scores, then the claim ahead's failure.
        let commit = m.scored([score("Sa"), score("Sb")], claimedAhead: [])
        #expect(m.databaseFailed() == .waitToReconnect(seconds: 0.25, attempt: 1))
        #expect(m.reconnectDelayElapsed() == .connect)
        #expect(m.connected() == commit)
    }

    @Test func aShutdownRequestDuringAnAbandonWaitsForIt() {
        var m = started()
        _ = m.claimed(full([1, 2]))
        _ = m.scored([score("Sa"), score("Sb")], claimedAhead: full([3, 4]))
        #expect(m.databaseFailed() == .abandonAhead)
        #expect(m.requestShutdown() == nil)
        // Then it stops: the server is away and no batch is left to save.
        #expect(m.aheadAbandoned() == .waitToReconnect(seconds: 0.25, attempt: 1))
    }
}

@Suite struct BackoffTests {
    @Test func delaysDoubleUpToTheCap() {
        let backoff = Backoff(baseSeconds: 1, maxSeconds: 30)
        #expect((1...7).map { backoff.nominalDelay(attempt: $0) } == [1, 2, 4, 8, 16, 30, 30])
        #expect(backoff.nominalDelay(attempt: 10_000) == 30)
    }

    @Test func jitterOnlyShortensTheDelay() {
        let backoff = Backoff(baseSeconds: 1, maxSeconds: 8, jitter: 0.2)
        #expect(abs(backoff.delay(attempt: 3, random: 0) - 4) < 1e-12)
        #expect(abs(backoff.delay(attempt: 3, random: 0.5) - 3.6) < 1e-12)
        for _ in 0..<100 {
            let d = backoff.delay(attempt: 4)
            #expect(d > 8 * 0.8 - 1e-9 && d <= 8)
        }
    }
}
