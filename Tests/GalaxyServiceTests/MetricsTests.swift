import Foundation
import GalaxyCore
import GalaxyService
import Testing

@Suite struct MetricsTests {
    @Test func textExpositionFormat() {
        let registry = MetricsRegistry()
        registry.declareCounter("jobs_total", help: "Jobs.")
        registry.declareGauge("depth", help: "Queue depth.")
        registry.declareHistogram("latency_seconds", help: "Latency.", buckets: [0.01, 0.1])
        registry.increment("jobs_total", by: 3, labels: [("outcome", "done")])
        registry.increment("jobs_total", labels: [("outcome", "failed")])
        registry.set("depth", to: 12.5)
        registry.observe("latency_seconds", 0.005)
        registry.observe("latency_seconds", 0.05)
        registry.observe("latency_seconds", 3)
        #expect(
            registry.prometheusText() == """
                # HELP jobs_total Jobs.
                # TYPE jobs_total counter
                jobs_total{outcome="done"} 3
                jobs_total{outcome="failed"} 1
                # HELP depth Queue depth.
                # TYPE depth gauge
                depth 12.5
                # HELP latency_seconds Latency.
                # TYPE latency_seconds histogram
                latency_seconds_bucket{le="0.01"} 1
                latency_seconds_bucket{le="0.1"} 2
                latency_seconds_bucket{le="+Inf"} 3
                latency_seconds_sum 3.055
                latency_seconds_count 3

                """)
    }

    @Test func labelValuesAreEscaped() {
        let registry = MetricsRegistry()
        registry.declareGauge("g", help: "A \"gauge\"\nwith two lines.")
        registry.set("g", to: 1, labels: [("model", "a\"b\\c")])
        let text = registry.prometheusText()
        #expect(text.contains(#"g{model="a\"b\\c"} 1"#))
        #expect(text.contains(#"# HELP g A "gauge"\nwith two lines."#))
    }

    @Test func aFamilyDeclaredTwiceKeepsItsSeries() {
        let registry = MetricsRegistry()
        registry.declareGauge("in_flight", help: "Requests.")
        registry.add("in_flight", by: 2)
        registry.declareGauge("in_flight", help: "Requests.")
        registry.add("in_flight", by: -1)
        #expect(registry.value("in_flight") == 1)
        #expect(registry.prometheusText().components(separatedBy: "# TYPE in_flight").count == 2)
    }

    @Test func serviceMetricsCountCommittedBatches() {
        let metrics = ServiceMetrics()
        metrics.record(.init(completed: 60, retried: 2, failedForGood: 1, lostLease: 1), batchSize: 64)
        metrics.record(.init(completed: 3, retried: 0, failedForGood: 0, lostLease: 0), batchSize: 3)
        let r = metrics.registry
        #expect(r.value(ServiceMetrics.jobsCompleted) == 63)
        #expect(r.value(ServiceMetrics.jobsFailed) == 1)
        #expect(r.value(ServiceMetrics.jobsRetried) == 2)
        #expect(r.observationCount(ServiceMetrics.batchSize) == 2)
        let text = metrics.prometheusText()
        #expect(text.contains("galaxy_jobs_completed_total 63\n"))
        #expect(text.contains("galaxy_batch_size_bucket{le=\"4\"} 1\n"))
        #expect(text.contains("galaxy_batch_size_bucket{le=\"64\"} 2\n"))
    }
}
