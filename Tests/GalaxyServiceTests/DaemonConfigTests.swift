import Foundation
import GalaxyService
import Testing

@Suite struct DaemonConfigTests {
    private func resolve(_ options: DaemonConfig.Options = .init(), _ env: [String: String] = [:]) throws
        -> DaemonConfig
    {
        try DaemonConfig.resolve(options, environment: env, defaultName: "host:42")
    }

    @Test func defaults() throws {
        let config = try resolve()
        #expect(config.name == "host:42")
        #expect(config.database == nil)
        #expect(config.batchSize == 64)
        #expect(config.leaseSeconds == 60)
        #expect(config.pollIntervalSeconds == 5)
        #expect(!config.pollOnly)
        #expect(config.threads >= 1)
        #expect(config.metricsAddress == nil)
    }

    @Test func flagsWinOverEnvironment() throws {
        var options = DaemonConfig.Options()
        options.batchSize = "16"
        options.database = "host=/tmp dbname=x"
        let config = try resolve(
            options,
            [
                "GALAXY_BATCH_SIZE": "8", "GALAXY_LEASE_SECONDS": "30",
                "DATABASE_URL": "postgresql://db/other",
                "GALAXY_POLL_ONLY": "true", "GALAXY_DAEMON_NAME": "scorer-1",
                "GALAXY_METRICS_ADDRESS": ":9464",
            ])
        #expect(config.batchSize == 16)
        #expect(config.database == "host=/tmp dbname=x")
        #expect(config.leaseSeconds == 30)
        #expect(config.pollOnly)
        #expect(config.name == "scorer-1")
        #expect(config.metricsAddress == HostPort(host: "0.0.0.0", port: 9464))
    }

    @Test func databaseURLComesFromTheEnvironment() throws {
        #expect(
            try resolve(.init(), ["DATABASE_URL": "postgresql://db/galaxy"]).database
                == "postgresql://db/galaxy")
    }

    @Test func badValuesNameTheFlagAndTheFix() {
        var options = DaemonConfig.Options()
        options.batchSize = "0"
        #expect {
            _ = try resolve(options)
        } throws: { error in
            "\(error)" == "invalid --batch-size '0': expected a whole number from 1 to 10000."
        }
        #expect {
            _ = try resolve(.init(), ["GALAXY_POLL_INTERVAL": "soon"])
        } throws: { error in
            "\(error)".hasPrefix("invalid GALAXY_POLL_INTERVAL (or --poll-interval) 'soon'")
        }
        #expect {
            _ = try resolve(.init(), ["GALAXY_POLL_ONLY": "maybe"])
        } throws: { error in "\(error)".contains("GALAXY_POLL_ONLY") }
    }

    @Test func leaseMustOutliveTwoHeartbeats() {
        var options = DaemonConfig.Options()
        options.leaseSeconds = "5"
        #expect(throws: DaemonConfigError.self) { _ = try resolve(options) }
        options.heartbeat = "1"
        #expect(throws: Never.self) { _ = try resolve(options) }
    }

    @Test(arguments: [
        ("127.0.0.1:9464", HostPort(host: "127.0.0.1", port: 9464)),
        ("[::1]:80", HostPort(host: "::1", port: 80)),
        (":0", HostPort(host: "0.0.0.0", port: 0)),
        ("localhost:9", HostPort(host: "localhost", port: 9)),
    ])
    func hostPortParses(text: String, expected: HostPort) {
        #expect(HostPort(text) == expected)
    }

    @Test(arguments: ["9464", "host:", "host:70000", "::1:80", "[]:80", "host:port"])
    func hostPortRejects(text: String) {
        #expect(HostPort(text) == nil)
    }

    @Test func scoringSocketsAreCheckedAtStart() throws {
        var options = DaemonConfig.Options()
        options.scoringSocket = "relative/s.sock"
        #expect(throws: DaemonConfigError.self) { try resolve(options) }
        options.scoringSocket = "/run/galaxy/s.sock"
        options.scoringSocketGroup = "postgres"
        options.scoringSocketMaxBytes = "1000000"
        let unix = try #require(try resolve(options).scoringSocket)
        #expect(unix.endpoint == .unix(path: "/run/galaxy/s.sock", group: "postgres"))
        #expect(unix.maxImageBytes == 1_000_000)

        // TCP needs a secret file that only its owner can read and that holds enough bytes.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("secret").path
        var tcp = DaemonConfig.Options()
        tcp.scoringTCP = "127.0.0.1:7433"
        #expect(throws: DaemonConfigError.self) { try resolve(tcp) }
        tcp.scoringSecretFile = file
        #expect(throws: DaemonConfigError.self) { try resolve(tcp) }  // missing
        FileManager.default.createFile(atPath: file, contents: Data("0123456789abcdef0123\n".utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        do {
            _ = try resolve(tcp)
            Issue.record("a world-readable secret was accepted")
        } catch {
            #expect("\(error)".contains("chmod 600"))
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        let config = try #require(try resolve(tcp).scoringTCP)
        #expect(config.endpoint == .tcp(HostPort(host: "127.0.0.1", port: 7433), secret: Array("0123456789abcdef0123".utf8)))
        #expect(config.path == "tcp://127.0.0.1:7433")
        FileManager.default.createFile(atPath: file, contents: Data("short".utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        #expect(throws: DaemonConfigError.self) { try resolve(tcp) }
    }
}
