import GalaxyCore

/// The daemon's metrics, by name. `prometheusText()` is what `/metrics` serves (the daemon's own
/// `--metrics-address` listener, or `galaxy web`).
public final class ServiceMetrics: Sendable {
    public static let jobsCompleted = "galaxy_jobs_completed_total"
    public static let jobsFailed = "galaxy_jobs_failed_total"
    public static let jobsRetried = "galaxy_jobs_retried_total"
    public static let jobsLostLease = "galaxy_jobs_lost_lease_total"
    public static let scoringLatency = "galaxy_scoring_latency_seconds"
    public static let batchSize = "galaxy_batch_size"
    public static let queueDepth = "galaxy_queue_depth"
    public static let reconnects = "galaxy_database_reconnects_total"
    public static let modelsLoaded = "galaxy_models_loaded"
    public static let up = "galaxy_daemon_up"

    /// The registry the series live in.
    public let registry: MetricsRegistry

    public init(registry: MetricsRegistry = MetricsRegistry()) {
        self.registry = registry
        registry.declareCounter(Self.jobsCompleted, help: "Jobs scored and written to galaxy.predictions.")
        registry.declareCounter(Self.jobsFailed, help: "Jobs that failed for good after their last attempt.")
        registry.declareCounter(Self.jobsRetried, help: "Job attempts that failed and were queued again.")
        registry.declareCounter(
            Self.jobsLostLease,
            help: "Scored jobs dropped because another daemon had taken over their lease.")
        registry.declareHistogram(
            Self.scoringLatency, help: "Decode, preprocess and inference time per image.",
            buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5])
        registry.declareHistogram(
            Self.batchSize, help: "Jobs per claimed batch.",
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
        registry.declareGauge(Self.queueDepth, help: "Jobs in galaxy.queue at the last look.")
        registry.declareCounter(
            Self.reconnects, help: "Connections to PostgreSQL opened again after a failure.")
        registry.declareGauge(Self.modelsLoaded, help: "Models loaded in this daemon's cache.")
        registry.declareGauge(Self.up, help: "1 while the daemon is connected and scoring.")
    }

    /// Records the counts of one committed batch.
    public func record(_ summary: ScoringStateMachine.CommitSummary, batchSize: Int) {
        registry.increment(Self.jobsCompleted, by: Double(summary.completed))
        registry.increment(Self.jobsFailed, by: Double(summary.failedForGood))
        registry.increment(Self.jobsRetried, by: Double(summary.retried))
        registry.increment(Self.jobsLostLease, by: Double(summary.lostLease))
        registry.observe(Self.batchSize, Double(batchSize))
    }

    /// Every series in the Prometheus text exposition format.
    public func prometheusText() -> String { registry.prometheusText() }
}
