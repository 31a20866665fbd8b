import Foundation
import GalaxyEngine
import GalaxyPostgres
import GalaxyService
import GalaxyTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `galaxy serve --http --metrics-address` as one process of services, stopped by SIGTERM.
@Suite struct LifecycleTests {
    @Test func sigtermEndsHTTPStreamsCleanlyFinishesTheBatchGivesLeasesBackAndExitsZero() throws {
        let f = try ServiceFixture(prefix: "lifecycle_sigterm")
        let model = try f.addModel("sb", TestModels.constant(label: "Sb"))
        let ids = try f.insertImages(count: 400)
        let (httpPort, metricsPort) = (try HTTPGet.freePort(), try HTTPGet.freePort())
        let serve = try f.spawnDaemon(
            name: "lifecycle",
            extra: [
                "--http", "127.0.0.1:\(httpPort)", "--open-read", "--metrics-address", "127.0.0.1:\(metricsPort)",
            ])
        defer { if serve.isRunning { serve.send(signal: SIGKILL) } }
        let scoring = try eventually(timeout: 120) {
            try f.scalar("select count(*) from galaxy.predictions", as: Int64.self) > 0 || !serve.isRunning
        }
        #expect(scoring && serve.isRunning, "galaxy serve did not start scoring: \(serve.standardError)")

        // Idle connections do not hold up a scrape, and the one registry has both parts' series.
        let idle = try (0..<3).map { _ in try HTTPGet.Connection(port: metricsPort) }
        let scrape = try HTTPGet.fetch(port: metricsPort, path: "/metrics")
        #expect(scrape.hasPrefix("HTTP/1.1 200"), "\(scrape.prefix(200))")
        #expect(scrape.contains("galaxy_jobs_completed_total "))
        #expect(scrape.contains("galaxy_http_requests_in_flight "))
        #expect(try HTTPGet.fetch(port: metricsPort, path: "/healthz").contains(#"{"status":"ok"}"#))
        #expect(try HTTPGet.fetch(port: metricsPort, path: "/nothing").hasPrefix("HTTP/1.1 404"))

        // A request in flight when SIGTERM arrives: the live-status stream.
        let stream = try HTTPGet.Connection(port: httpPort)
        try stream.send("GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let opened = stream.read(until: "event: status")
        #expect(opened.hasPrefix("HTTP/1.1 200") && opened.contains("event: status"), "\(opened.prefix(300))")

        serve.send(signal: SIGTERM)
        let rest = stream.readToEnd()
        let status = serve.wait(timeout: 60)
        #expect(status == 0, "exit status \(String(describing: status)); stderr: \(serve.standardError)")
        // The stream ended with the chunked terminator, not a reset.
        #expect((opened + rest).hasSuffix("0\r\n\r\n"), "stream ended with \((opened + rest).suffix(80).debugDescription)")
        _ = idle

        #expect(try f.scalar("select count(*) from galaxy.queue where lease_owner = 'lifecycle'", as: Int64.self) == 0)
        #expect(
            try f.scalar("select stopped_at is not null from galaxy.daemons where name = 'lifecycle'", as: Bool.self))
        // What it had scored is written once; what it had not is queued again, nothing is lost.
        let scored = try f.scalar("select count(*) from galaxy.predictions", as: Int64.self)
        let queued = try f.scalar("select count(*) from galaxy.queue", as: Int64.self)
        #expect(scored + queued == Int64(ids.count))
        #expect(try f.scalar("select count(*) from galaxy.failed_jobs", as: Int64.self) == 0)
        _ = model
    }

    @Test func aTakenMetricsPortIsAnErrorNamingTheFlag() throws {
        let f = try ServiceFixture(prefix: "lifecycle_port")
        try f.addModel("sb", TestModels.constant(label: "Sb"))
        let holder = try HTTPGet.freePort()
        let first = try f.spawnDaemon(name: "first", extra: ["--metrics-address", "127.0.0.1:\(holder)"])
        defer { if first.isRunning { first.send(signal: SIGKILL) } }
        #expect(try eventually { (try? HTTPGet.fetch(port: holder, path: "/healthz"))?.hasPrefix("HTTP/1.1 200") == true })
        let second = try f.spawnDaemon(name: "second", extra: ["--metrics-address", "127.0.0.1:\(holder)"])
        defer { if second.isRunning { second.send(signal: SIGKILL) } }
        #expect(second.wait(timeout: 60) == 2)
        #expect(second.standardError.contains("--metrics-address 127.0.0.1:\(holder)"), "\(second.standardError)")
        // The failed start gave back everything: no daemon named second is left running.
        #expect(
            try f.scalar("select count(*) from galaxy.daemons where name = 'second' and stopped_at is null", as: Int64.self)
                == 0)
        first.send(signal: SIGTERM)
        #expect(first.wait(timeout: 60) == 0)
    }

    @Test func theScoringSocketIsOneMoreServiceRefusesASecondDaemonAndSurvivesAKill() throws {
        let f = try ServiceFixture(prefix: "lifecycle_socket")
        try f.addModel("sb", TestModels.constant(label: "Sb"))
        let socket = try ScoringSocketFixture(conninfo: f.conninfo)
        let group = ScoringSocketFixture.serverGroup.map { ["--scoring-socket-group", $0] } ?? []
        let options = ["--scoring-socket", socket.path] + group
        _ = try f.db.execute(PostgresQuery(unsafeSQL: socket.setSQL))
        let jpeg = ServiceFixture.jpeg(seed: 1)

        let first = try f.spawnDaemon(name: "first", extra: options)
        defer { if first.isRunning { first.send(signal: SIGKILL) } }
        #expect(try eventually { FileManager.default.fileExists(atPath: socket.path) || !first.isRunning })
        #expect(try f.db.query("select (galaxy.classify(\(jpeg))).class").scalar(String.self) == "Spiral")

        let second = try f.spawnDaemon(name: "second", extra: options)
        defer { if second.isRunning { second.send(signal: SIGKILL) } }
        #expect(second.wait(timeout: 60) == 2)
        #expect(second.standardError.contains("another daemon serves the scoring socket"), "\(second.standardError)")

        first.send(signal: SIGTERM)
        #expect(first.wait(timeout: 60) == 0, "\(first.standardError)")
        #expect(!FileManager.default.fileExists(atPath: socket.path))

        // Killed: the socket file stays behind, the kernel frees the lock, a new daemon takes over.
        let third = try f.spawnDaemon(name: "third", extra: options)
        defer { if third.isRunning { third.send(signal: SIGKILL) } }
        #expect(try eventually { FileManager.default.fileExists(atPath: socket.path) || !third.isRunning })
        #expect(try f.db.query("select (galaxy.classify(\(jpeg))).class").scalar(String.self) == "Spiral")
        third.send(signal: SIGKILL)
        _ = third.wait(timeout: 60)
        #expect(FileManager.default.fileExists(atPath: socket.path))
        do {
            _ = try f.db.query("select galaxy.classify(\(jpeg))")
            Issue.record("a killed daemon answered")
        } catch let error as PostgresError {
            #expect(error.sqlState == "GZ007", "\(error)")
        }
        let fourth = try f.spawnDaemon(name: "fourth", extra: options)
        defer { if fourth.isRunning { fourth.send(signal: SIGKILL) } }
        #expect(try eventually {
            (try? f.db.query("select (galaxy.classify(\(jpeg))).class").scalar(String.self)) == "Spiral" || !fourth.isRunning
        })
        #expect(fourth.isRunning, "\(fourth.standardError)")
        fourth.send(signal: SIGTERM)
        #expect(fourth.wait(timeout: 60) == 0)
    }
}
