import ArgumentParser
import Foundation
import GalaxyEngine
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
        name: .customLong("scoring-socket"),
        help: "Also serve galaxy.classify on this Unix socket (set galaxy.scoring_socket to the same path).")
    var scoringSocket: String?

    @Option(
        name: .customLong("scoring-socket-group"),
        help: "Group that may use the scoring socket, typically the PostgreSQL server's (default: only this user).")
    var scoringSocketGroup: String?

    @Option(
        name: .customLong("scoring-socket-max-bytes"),
        help: "Largest image the scoring socket accepts (default: 33554432, as galaxy.classify_max_bytes).")
    var scoringSocketMaxBytes: String?

    @Option(
        name: .customLong("scoring-tcp"),
        help: "Also serve galaxy.classify on this TCP HOST:PORT, for servers on other machines (needs --scoring-secret-file).")
    var scoringTCP: String?

    @Option(
        name: .customLong("scoring-secret-file"),
        help: "File holding the shared secret TCP backends must present (mode 600; galaxy.scoring_secret).")
    var scoringSecretFile: String?

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
        options.scoringSocket = scoringSocket
        options.scoringSocketGroup = scoringSocketGroup
        options.scoringSocketMaxBytes = scoringSocketMaxBytes
        options.scoringTCP = scoringTCP
        options.scoringSecretFile = scoringSecretFile
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
        let kernels = KernelPaths.current()
        logger.info("kernel paths", metadata: ["kernels": "\(kernels.summary)"])
        for warning in kernels.warnings { logger.warning("slow kernel path", metadata: [LogKey.error: "\(warning)"]) }
        let daemon = ScoringDaemon(
            config: config,
            connect: {
                try PostgresDaemonDatabase(
                    conninfo: config.database, applicationName: "galaxy serve \(config.name)",
                    logger: Logger(label: "galaxy.postgres"))
            },
            loader: EngineModelLoader(), logger: logger)

        var parts: [ServiceRunner.Part] = []
        if let address = config.metricsAddress {
            let metricsApp = buildMetricsApplication(
                host: address.host, port: address.port, registry: daemon.metrics.registry, logger: logger,
                onListening: { port in
                    logger.info("serving metrics", metadata: [LogKey.address: "\(address.host):\(port)"])
                })
            parts.append(.init(service: metricsApp, name: "metrics listener (--metrics-address \(address))"))
        }
        parts.append(.init(service: ScoringService(daemon: daemon), name: "scoring daemon"))
        let sockets = [config.scoringSocket, config.scoringTCP].compactMap { $0 }
        if !sockets.isEmpty {
            let reader = SocketModelReader(conninfo: config.database, logger: Logger(label: "galaxy.postgres"))
            let scorer = SocketScorer(
                source: { try reader.model(id: $0) }, loader: EngineModelLoader(), threads: config.threads,
                maxBatch: config.batchSize, logger: logger)
            let names = sockets.map(\.path).joined(separator: ", ")
            do {
                let service = try ScoringSocketService(configs: sockets, scorer: scorer, logger: logger)
                parts.append(.init(service: service, name: "scoring socket (\(names))"))
                logger.info("serving the scoring socket", metadata: [LogKey.address: "\(names)"])
            } catch {
                FileHandle.standardError.write(Data("error: scoring socket: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        if let http {
            var webConfig = try web.configuration(address: http, database: config.database)
            webConfig.metrics = daemon.metrics.registry
            let host = webConfig.host
            webConfig.onListening = { port in logger.info("serving HTTP", metadata: [LogKey.address: "\(host):\(port)"]) }
            parts.append(.init(service: try await buildApplication(webConfig), name: "HTTP server (--http \(http))"))
        }
        do {
            try await ServiceRunner.run(parts, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
