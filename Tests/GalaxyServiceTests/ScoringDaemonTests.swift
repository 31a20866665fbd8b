import Foundation
import GalaxyService
import Logging
import Testing

/// The daemon's driver against an in-memory server: every wait is bounded by a deadline.
@Suite struct ScoringDaemonTests {
    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0]

    final class Running: @unchecked Sendable {
        let daemon: ScoringDaemon
        private let done = DispatchSemaphore(value: 0)
        init(_ daemon: ScoringDaemon) {
            self.daemon = daemon
            let thread = Thread { [done] in
                try? daemon.run()
                done.signal()
            }
            thread.start()
        }
        /// Requests shutdown and waits (bounded) for the loop to end.
        func stop() -> Bool {
            daemon.requestShutdown()
            return done.wait(timeout: .now() + 10) == .success
        }
    }

    private func start(
        _ server: FakeServer, name: String = "d1", pollInterval: Double = 0.05,
        loader: any ScoringModelLoader = FakeLoader()
    ) -> Running {
        var config = DaemonConfig(name: name)
        config.batchSize = 4
        config.pollIntervalSeconds = pollInterval
        config.heartbeatSeconds = 0.05
        config.threads = 1
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let daemon = ScoringDaemon(
            config: config, connect: { try FakeDatabase(server: server) }, loader: loader,
            logger: logger)
        return Running(daemon)
    }

    /// Polls `condition` until it holds or 10 s pass.
    private func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition()
    }

    @Test func scoresEveryJobAndACorruptImageFailsOnlyItself() {
        let server = FakeServer()
        server.addModel(id: 1, name: "m1", onnx: "Sa", status: "ready", active: true)
        for image in 1...9 { server.enqueue(image: Int64(image), jpeg: Self.jpeg) }
        server.enqueue(image: 10, jpeg: [1, 2, 3])
        let running = start(server)
        #expect(eventually { server.queueIsEmpty })
        #expect(running.stop())
        for image in 1...9 { #expect(server.prediction(image: Int64(image), model: 1)?.writes == 1) }
        #expect(server.prediction(image: 10, model: 1) == nil)
        #expect(
            server.locked { $0.failedJobs.values.first } == JobError(.notJPEG, "decode image 10: not a JPEG file"))
        #expect(server.locked { $0.stoppedDaemons } == ["d1"])
        #expect(running.daemon.metrics.registry.value(ServiceMetrics.jobsCompleted) == 9)
        #expect(running.daemon.metrics.registry.value(ServiceMetrics.jobsFailed) == 1)
    }

    @Test func pendingModelsAreValidatedAndAnInvalidOneIsRejectedWhileThePreviousStaysActive() {
        let server = FakeServer()
        server.addModel(id: 1, name: "good", onnx: "Sa")
        server.activate(1)  // not allowed before ready in SQL; here it just marks intent
        server.addModel(id: 2, name: "broken", onnx: "bad bytes")
        let running = start(server)
        #expect(
            eventually {
                server.locked { $0.models[2]?.status == "rejected" && $0.models[1]?.status == "ready" }
            })
        #expect(server.locked { $0.models[2]?.error }?.contains("conv1") == true)
        server.enqueue(image: 1, jpeg: Self.jpeg)
        #expect(eventually { server.prediction(image: 1, model: 1) != nil })
        #expect(running.stop())
    }

    @Test func hotSwapScoresLaterJobsWithTheNewModelWithoutRestart() {
        let server = FakeServer()
        server.addModel(id: 1, name: "v1", onnx: "Sa", status: "ready", active: true)
        server.addModel(id: 2, name: "v2", onnx: "Ei", status: "ready")
        let running = start(server)
        server.enqueue(image: 1, jpeg: Self.jpeg)
        #expect(eventually { server.prediction(image: 1, model: 1)?.label == "Sa" })
        server.activate(2)
        server.enqueue(image: 2, jpeg: Self.jpeg)
        #expect(eventually { server.prediction(image: 2, model: 2)?.label == "Ei" })
        #expect(server.prediction(image: 2, model: 1) == nil)
        #expect(running.stop())
    }

    @Test func anOutageIsSurvivedAndNothingIsLost() {
        let server = FakeServer()
        server.addModel(id: 1, name: "m", onnx: "Sb", status: "ready", active: true)
        let running = start(server)
        for image in 1...5 { server.enqueue(image: Int64(image), jpeg: Self.jpeg) }
        server.locked { $0.isDown = true }
        Thread.sleep(forTimeInterval: 0.3)
        for image in 6...10 { server.enqueue(image: Int64(image), jpeg: Self.jpeg) }
        server.locked { $0.isDown = false }
        #expect(eventually { server.queueIsEmpty })
        #expect(running.stop())
        for image in 1...10 { #expect(server.prediction(image: Int64(image), model: 1)?.writes == 1) }
    }

    @Test func shutdownReleasesLeasesAndMarksTheDaemonStopped() {
        let server = FakeServer()
        let running = start(server)
        Thread.sleep(forTimeInterval: 0.1)
        #expect(running.stop())
        #expect(server.locked { $0.stoppedDaemons } == ["d1"])
    }

    /// A shutdown while a batch scores and the next is claimed ahead: the batch in hand commits,
    /// the one ahead is never committed, and its leases are given back; no image is lost or
    /// written twice, whichever side of the claim the request lands on.
    @Test func shutdownNeverCommitsTheBatchClaimedAheadAndGivesItsLeasesBack() {
        let server = FakeServer()
        let events = EventLog()
        server.addModel(id: 1, name: "m", onnx: "Sc", status: "ready", active: true)
        for image in 1...12 { server.enqueue(image: Int64(image), jpeg: Self.jpeg) }
        let running = start(server, loader: RecordingLoader(events: events, seconds: 0.5))
        #expect(eventually { events.entries.contains("score 1") })
        #expect(running.stop())
        let scored = (1...12).filter { server.prediction(image: Int64($0), model: 1) != nil }
        #expect(scored == [1, 2, 3, 4], "\(events.entries)")
        for image in scored { #expect(server.prediction(image: Int64(image), model: 1)?.writes == 1) }
        #expect(server.queued.jobs == 8 && server.queued.leased == 0)
    }

    @Test func theNextBatchIsScoredWhileTheLastOneCommits() {
        let server = FakeServer()
        let events = EventLog()
        server.commitHook = { batch in
            let first = batch.completions.map(\.jobID).min() ?? 0
            events.append("commit \(first) begins")
            Thread.sleep(forTimeInterval: 0.1)
            events.append("commit \(first) ends")
        }
        server.addModel(id: 1, name: "m", onnx: "Sc", status: "ready", active: true)
        for image in 1...12 { server.enqueue(image: Int64(image), jpeg: Self.jpeg) }
        let running = start(server, loader: RecordingLoader(events: events))
        #expect(eventually { server.queueIsEmpty })
        #expect(running.stop())
        for image in 1...12 { #expect(server.prediction(image: Int64(image), model: 1)?.writes == 1) }
        // Batches of 4: jobs 5-8 are scored while jobs 1-4 commit, 9-12 while 5-8 commit.
        let log = events.entries
        for (scored, committing) in [(5, 1), (9, 5)] {
            guard let start = log.firstIndex(of: "score \(scored)"),
                let begins = log.firstIndex(of: "commit \(committing) begins"),
                let ends = log.firstIndex(of: "commit \(committing) ends")
            else {
                Issue.record("missing events in \(log)")
                return
            }
            #expect(begins < ends && start < ends, "\(log)")
        }
    }
}

/// Events from the daemon's thread and the scoring thread, in order.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ event: String) {
        lock.lock()
        items.append(event)
        lock.unlock()
    }
    var entries: [String] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}

/// `FakeLoader`'s models, logging "score FIRST-IMAGE" when a batch starts scoring, taking
/// `seconds` to score it.
struct RecordingLoader: ScoringModelLoader {
    let events: EventLog
    var seconds = 0.0
    struct Model: ScoringModel {
        let inner: any ScoringModel
        let events: EventLog
        let seconds: Double
        func score(jpegs: [[UInt8]], imageIDs: [Int64]) -> [JobOutcome] {
            events.append("score \(imageIDs.min() ?? 0)")
            if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
            return inner.score(jpegs: jpegs, imageIDs: imageIDs)
        }
        var preprocessingJSON: String { inner.preprocessingJSON }
        var metadataJSON: String { inner.metadataJSON }
        var labels: [String] { inner.labels }
    }
    func load(onnx: [UInt8], threads: Int) throws -> any ScoringModel {
        Model(inner: try FakeLoader().load(onnx: onnx, threads: threads), events: events, seconds: seconds)
    }
}
