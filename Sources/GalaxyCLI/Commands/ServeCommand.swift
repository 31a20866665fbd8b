import ArgumentParser
import Foundation
import GalaxyPostgres
import GalaxyService
import GalaxyWeb
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the scoring daemon.",
        discussion: """
            Listens on galaxy_jobs and galaxy_models, claims queued images in batches, scores them \
            with the active model on all cores and writes predictions back. Any number of daemons \
            may serve one database. SIGTERM or SIGINT finishes the batch in flight, gives back \
            leases and exits 0. Settings also come from GALAXY_* environment variables \
            (see docs/daemon.md); the database from --database, DATABASE_URL or PG* variables.
            """)

    @Option(
        name: .long, help: "libpq conninfo or postgresql:// URL (default: DATABASE_URL, then PG* variables).")
    var database: String?

    @Option(name: .long, help: "This daemon's name, unique per running daemon (default: host:pid).")
    var name: String?

    @Option(name: .long, help: "Scoring threads (default: all cores).")
    var threads: String?

    @Option(name: .customLong("batch-size"), help: "Most jobs claimed at once (default: 64).")
    var batchSize: String?

    @Option(
        name: .customLong("lease-seconds"),
        help: "Lease of a claimed job before another daemon may take it over (default: 60).")
    var leaseSeconds: String?

    @Option(
        name: .customLong("poll-interval"),
        help: "Seconds between looks for work without a notification (default: 5).")
    var pollInterval: String?

    @Flag(
        name: .customLong("poll-only"),
        help: "Do not LISTEN; poll only (behind a transaction-pooling PgBouncer).")
    var pollOnly = false

    @Option(name: .customLong("heartbeat"), help: "Seconds between heartbeats (default: 5).")
    var heartbeat: String?

    @Option(
        name: .customLong("retry-base"),
        help: "First retry delay of a failed job in seconds, doubled per attempt (default: 2).")
    var retryBase: String?

    @Option(
        name: .customLong("metrics-address"), help: "Serve Prometheus metrics at http://HOST:PORT/metrics.")
    var metricsAddress: String?

    @Option(
        name: .customLong("log-level"),
        help: "trace, debug, info, notice, warning, error or critical (default: info, or GALAXY_LOG_LEVEL).")
    var logLevel: String?

    @Option(name: .long, help: "Also serve the HTTP API and upload page at HOST:PORT (see 'galaxy web').")
    var http: String?

    @OptionGroup(title: "HTTP options (with --http)") var web: WebOptions

    func run() async throws {
        var options = DaemonConfig.Options()
        options.database = database
        options.name = name
        options.threads = threads
        options.batchSize = batchSize
        options.leaseSeconds = leaseSeconds
        options.pollInterval = pollInterval
        options.pollOnly = pollOnly
        options.heartbeat = heartbeat
        options.retryBase = retryBase
        options.metricsAddress = metricsAddress
        let config: DaemonConfig
        do {
            config = try DaemonConfig.resolve(options)
        } catch {
            throw ValidationError(error.description)
        }
        let levelText = logLevel ?? ProcessInfo.processInfo.environment["GALAXY_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ValidationError(
                "invalid --log-level '\(levelText)': expected trace, debug, info, notice, warning, error or critical."
            )
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "galaxy.serve")
        let daemon = ScoringDaemon(
            config: config,
            connect: {
                try PostgresDaemonDatabase(
                    conninfo: config.database, applicationName: "galaxy serve \(config.name)",
                    logger: Logger(label: "galaxy.postgres"))
            },
            loader: EngineModelLoader(), logger: logger)

        var server: MetricsServer?
        if let address = config.metricsAddress {
            do {
                server = try MetricsServer(address: address) { daemon.metrics.prometheusText() }
            } catch {
                throw ValidationError(error.description)
            }
            logger.info("serving metrics", metadata: [LogKey.address: "\(address.host):\(server!.port)"])
        }
        defer { server?.stop() }

        var webService: WebService?
        if let http {
            var webConfig = try web.configuration(address: http, database: config.database)
            webConfig.extraMetrics = { daemon.metrics.prometheusText() }
            webService = try await WebService.start(webConfig, logger: logger)
        }
        defer { webService?.stop() }

        let signals = ShutdownSignals { daemon.requestShutdown() }
        defer { signals.cancel() }
        // The daemon blocks on libpq and the engine: it gets a thread of its own.
        let failure: String? = await withCheckedContinuation {
            (continuation: CheckedContinuation<String?, Never>) in
            let thread = Thread {
                do {
                    try daemon.run()
                    continuation.resume(returning: nil)
                } catch {
                    continuation.resume(returning: "\(error)")
                }
            }
            thread.name = "galaxy-daemon"
            thread.stackSize = 8 << 20
            thread.start()
        }
        if let failure {
            FileHandle.standardError.write(Data("error: \(failure)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// SIGTERM and SIGINT call `handler` once each time they arrive instead of killing the process.
final class ShutdownSignals: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    init(handler: @escaping @Sendable () -> Void) {
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
