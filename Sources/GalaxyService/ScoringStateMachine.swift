/// The job lifecycle of one daemon as a value type: it takes events (connected, claimed, scored,
/// committed, woke up, shutdown requested, database failed) and returns the next action for the
/// driver to perform against PostgreSQL and the engine. No I/O happens here, so every path,
/// including a server restart in the middle of a commit, is unit-tested without a database.
///
/// The lifecycle of a job: `claim_jobs` leases it -> the engine scores it -> `complete_jobs` (done)
/// or `fail_jobs` (retry later, or failed for good) in one transaction. A batch scored while the
/// connection dropped is committed again after reconnecting; `complete_jobs` only completes jobs
/// this daemon still leases, so a job rescued meanwhile by another daemon is never completed twice.
///
/// Pipelining is part of the machine: while a full batch is scored it asks for the next batch to be
/// claimed ahead (`score(_:startedAhead:claimAhead:)`), and that batch starts scoring while the
/// first one commits (`commit(_:scoreAhead:)`). Work ahead is never committed after a shutdown
/// request or a lost connection: scoring started ahead is waited out and dropped (`abandonAhead`)
/// and its leases are given back with `release_jobs` (on stopping, or after reconnecting), so the
/// jobs are claimed again with their attempt returned.
public struct ScoringStateMachine: Sendable {
    /// What the driver does next.
    public enum Action: Sendable, Hashable {
        /// Connect, check the schema version, register the daemon and LISTEN (unless poll-only),
        /// then report `connected()` or `databaseFailed()`.
        case connect
        /// Wait, then report `reconnectDelayElapsed()`.
        case waitToReconnect(seconds: Double, attempt: Int)
        /// Give back leases this daemon may still hold from before a crash or a lost connection
        /// (`release_jobs`), then report `staleLeasesReleased()`.
        case releaseStaleLeases
        /// Call `claim_jobs`, then report `claimed(_:)`.
        case claim(maxJobs: Int)
        /// Score the jobs with the engine (no database); `startedAhead` says the previous commit
        /// already started it. Meanwhile, when `claimAhead` is set, claim up to that many more
        /// jobs. Then report `scored(_:claimedAhead:)`, and `databaseFailed()` right after it if
        /// the claim ahead failed.
        case score([ClaimedJob], startedAhead: Bool, claimAhead: Int?)
        /// Start scoring `scoreAhead` (unless empty), then call `complete_jobs` and `fail_jobs` in
        /// one transaction and report `committed(_:)`.
        case commit(BatchResult, scoreAhead: [ClaimedJob])
        /// Wait for the scoring started ahead to end and drop its results (its jobs stay leased
        /// until released), then report `aheadAbandoned()`.
        case abandonAhead
        /// Wait on the connection for a notification or the poll interval, then report `wokeUp()`.
        case waitForWork
        /// Graceful stop: `release_jobs` and `daemon_stopped`, then report `stopped()`.
        case releaseLeasesAndStop
        /// Leave the loop; the process exits 0.
        case exit
    }

    /// Counts from one commit, for logs and metrics.
    public struct CommitSummary: Sendable, Hashable {
        /// Jobs whose predictions were written.
        public var completed: Int
        /// Jobs that failed and will be retried after a backoff.
        public var retried: Int
        /// Jobs that failed for good (attempts exhausted).
        public var failedForGood: Int
        /// Scored jobs whose lease had passed to another daemon: their result was dropped.
        public var lostLease: Int

        public init(completed: Int, retried: Int, failedForGood: Int, lostLease: Int) {
            self.completed = completed
            self.retried = retried
            self.failedForGood = failedForGood
            self.lostLease = lostLease
        }
    }

    private enum State: Sendable, Hashable {
        case initial
        case connecting(attempt: Int)
        case waitingToReconnect(attempt: Int)
        case releasingStaleLeases
        case idle
        case claiming
        case scoring([ClaimedJob])
        case committing(BatchResult)
        case stopping
        case stopped
    }

    /// Jobs claimed while the batch in hand was scored, and whether their scoring has started.
    private enum Ahead: Sendable, Hashable {
        case none
        case claimed([ClaimedJob])
        case scoring([ClaimedJob])
    }

    private var state: State = .initial
    private var ahead: Ahead = .none
    /// The action to take once scoring started ahead has been abandoned.
    private var afterAbandon: Action?
    /// A scored batch whose commit did not go through: committed again after reconnecting.
    private var pendingCommit: BatchResult?
    private var shutdownRequested = false
    private let batchSize: Int
    private let retryPolicy: RetryPolicy
    private let backoff: Backoff
    private let randomJitter: @Sendable () -> Double

    /// - Parameters:
    ///   - batchSize: the most jobs claimed at once.
    ///   - retryPolicy: decides, per failed job, between failing now and retrying later.
    ///   - backoff: delays between reconnect attempts.
    ///   - randomJitter: a source of values in 0..<1 for the backoff jitter (fixed in tests).
    public init(
        batchSize: Int, retryPolicy: RetryPolicy, backoff: Backoff = .reconnect,
        randomJitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        precondition(batchSize > 0, "batch size must be at least 1")
        self.batchSize = batchSize
        self.retryPolicy = retryPolicy
        self.backoff = backoff
        self.randomJitter = randomJitter
    }

    /// True once the loop has nothing left to do.
    public var isStopped: Bool { state == .stopped }

    /// True while a claimed batch is being scored or committed (or waits to be committed again).
    public var holdsWork: Bool {
        switch state {
        case .scoring, .committing: return true
        default: return pendingCommit != nil
        }
    }

    /// The first action.
    public mutating func start() -> Action {
        precondition(state == .initial, "start() is called once")
        state = .connecting(attempt: 1)
        return .connect
    }

    /// The connection is open, the schema checked, the daemon registered and listening.
    public mutating func connected() -> Action {
        guard case .connecting = state else { preconditionFailure("connected() while \(state)") }
        if let batch = pendingCommit {
            state = .committing(batch)
            return .commit(batch, scoreAhead: [])
        }
        state = .releasingStaleLeases
        return .releaseStaleLeases
    }

    /// Leases left from an earlier life of this daemon were given back.
    public mutating func staleLeasesReleased() -> Action {
        guard state == .releasingStaleLeases else {
            preconditionFailure("staleLeasesReleased() while \(state)")
        }
        return claimOrStop()
    }

    /// Any database call failed (connection lost, server restarting, query error).
    public mutating func databaseFailed() -> Action {
        abandoningAhead(afterwards: afterDatabaseFailure())
    }

    private mutating func afterDatabaseFailure() -> Action {
        var attempt = 1
        switch state {
        case .connecting(let previous):
            attempt = previous + 1
        case .committing(let batch):
            // Not known whether the commit went through: commit again after reconnecting, which
            // is safe because complete_jobs only completes jobs this daemon still leases.
            pendingCommit = batch
        case .stopping:
            // The leases could not be released; they expire and other daemons take the jobs over.
            state = .stopped
            return .exit
        case .releasingStaleLeases, .claiming, .idle:
            break
        case .scoring:
            // A model could not be fetched: the batch is dropped; its leases are released after
            // reconnecting (or expire) and the jobs are claimed again.
            break
        case .initial, .waitingToReconnect, .stopped:
            preconditionFailure("databaseFailed() while \(state)")
        }
        if shutdownRequested {
            // Stopping while the server is away: scored results are dropped and the leases
            // expire, so other daemons score those jobs again.
            state = .stopped
            return .exit
        }
        state = .waitingToReconnect(attempt: attempt)
        return .waitToReconnect(
            seconds: backoff.delay(attempt: attempt, random: randomJitter()), attempt: attempt)
    }

    /// The reconnect delay has passed.
    public mutating func reconnectDelayElapsed() -> Action {
        guard case .waitingToReconnect(let attempt) = state else {
            preconditionFailure("reconnectDelayElapsed() while \(state)")
        }
        state = .connecting(attempt: attempt)
        return .connect
    }

    /// Scoring started ahead (if any) was waited out and dropped.
    public mutating func aheadAbandoned() -> Action {
        guard let next = afterAbandon else { preconditionFailure("aheadAbandoned() without abandonAhead") }
        afterAbandon = nil
        return next
    }

    /// Returns `next`, or first `abandonAhead` when scoring was started ahead. Jobs claimed ahead
    /// but not started are simply forgotten: `release_jobs` gives them back later.
    private mutating func abandoningAhead(afterwards next: Action) -> Action {
        defer { ahead = .none }
        guard case .scoring = ahead else { return next }
        afterAbandon = next
        return .abandonAhead
    }

    /// How many jobs to claim ahead while `jobs` are scored: a full batch suggests more work.
    private func claimAhead(after jobs: [ClaimedJob]) -> Int? {
        jobs.count >= batchSize && !shutdownRequested ? batchSize : nil
    }

    /// `claim_jobs` returned these jobs (possibly none).
    public mutating func claimed(_ jobs: [ClaimedJob]) -> Action {
        guard state == .claiming else { preconditionFailure("claimed() while \(state)") }
        if jobs.isEmpty {
            if shutdownRequested {
                state = .stopping
                return .releaseLeasesAndStop
            }
            state = .idle
            return .waitForWork
        }
        state = .scoring(jobs)
        return .score(jobs, startedAhead: false, claimAhead: claimAhead(after: jobs))
    }

    /// The engine scored the jobs in hand: one outcome per job, in claim order; `claimedAhead` are
    /// the jobs claimed meanwhile.
    public mutating func scored(_ outcomes: [JobOutcome], claimedAhead: [ClaimedJob] = []) -> Action {
        guard case .scoring(let jobs) = state else { preconditionFailure("scored() while \(state)") }
        let batch = BatchResult(jobs: jobs, outcomes: outcomes, policy: retryPolicy)
        state = .committing(batch)
        if claimedAhead.isEmpty {
            ahead = .none
            return .commit(batch, scoreAhead: [])
        }
        if shutdownRequested {
            // Not scored: given back by release_jobs when the daemon stops.
            ahead = .claimed(claimedAhead)
            return .commit(batch, scoreAhead: [])
        }
        ahead = .scoring(claimedAhead)
        return .commit(batch, scoreAhead: claimedAhead)
    }

    /// The batch's transaction committed with this receipt.
    public mutating func committed(_ receipt: CommitReceipt) -> (Action, CommitSummary) {
        guard case .committing(let batch) = state else { preconditionFailure("committed() while \(state)") }
        let wasRecommit = pendingCommit != nil
        pendingCommit = nil
        let completed = Set(receipt.completed)
        let summary = CommitSummary(
            completed: receipt.completed.count,
            retried: max(0, batch.failures.count - receipt.failedForGood.count),
            failedForGood: receipt.failedForGood.count,
            lostLease: batch.completions.filter { !completed.contains($0.jobID) }.count)
        if wasRecommit {
            // Back from a lost connection: give back whatever else is still leased to this daemon.
            ahead = .none
            state = .releasingStaleLeases
            return (.releaseStaleLeases, summary)
        }
        if case .scoring(let next) = ahead, !shutdownRequested {
            ahead = .none
            state = .scoring(next)
            return (.score(next, startedAhead: true, claimAhead: claimAhead(after: next)), summary)
        }
        // Claim again at once: an empty claim costs one query, and work that arrived while this
        // batch was scored is picked up without waiting for a notification.
        return (abandoningAhead(afterwards: claimOrStop()), summary)
    }

    /// A notification arrived or the poll interval passed. Returns nil while busy: the loop claims
    /// again after its current batch anyway.
    public mutating func wokeUp() -> Action? {
        guard state == .idle else { return nil }
        state = .claiming
        return .claim(maxJobs: batchSize)
    }

    /// SIGTERM or SIGINT. Returns the action to take now, or nil when the in-flight batch finishes
    /// first (the loop then stops instead of claiming more).
    public mutating func requestShutdown() -> Action? {
        shutdownRequested = true
        // Let the abandon finish: the action after it sees the request.
        if afterAbandon != nil { return nil }
        switch state {
        case .initial:
            state = .stopped
            return .exit
        case .idle:
            state = .stopping
            return .releaseLeasesAndStop
        case .waitingToReconnect:
            if pendingCommit != nil { return nil }  // try to save the scored batch first
            state = .stopped
            return .exit
        case .connecting, .releasingStaleLeases, .claiming, .scoring, .committing, .stopping, .stopped:
            return nil
        }
    }

    /// `release_jobs` and `daemon_stopped` went through.
    public mutating func stopped() -> Action {
        guard state == .stopping else { preconditionFailure("stopped() while \(state)") }
        state = .stopped
        return .exit
    }

    private mutating func claimOrStop() -> Action {
        if shutdownRequested {
            state = .stopping
            return .releaseLeasesAndStop
        }
        state = .claiming
        return .claim(maxJobs: batchSize)
    }
}
