import ArgumentParser
import Foundation
import GalaxyService
import GalaxyWeb
import Logging
import ServiceLifecycle

/// The flags `galaxy web` and `galaxy serve --http` share.
struct WebOptions: ParsableArguments {
    @Option(name: .customLong("max-upload-mb"), help: "Largest request body in MB (default: 10).")
    var maxUploadMB: Double = 10

    @Option(name: .customLong("rate"), help: "Requests per second per token (default: 20).")
    var rate: Double = 20

    @Option(name: .customLong("burst"), help: "Requests a token may make back to back (default: 60).")
    var burst: Double = 60

    @Option(name: .customLong("wait"), help: "Seconds an upload waits for its prediction (default: 30).")
    var wait: Double = 30

    @Option(name: .customLong("connections"), help: "Database connections for requests (default: 8).")
    var connections: Int = 8

    @Flag(name: .customLong("open-read"), help: "Allow reads without a token (local use only); writes still need a write token.")
    var openRead = false

    /// A configuration for `address` ("HOST:PORT" or ":PORT").
    func configuration(address: String, database: String?) throws -> WebConfiguration {
        var config = WebConfiguration()
        let parts = address.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, let port = Int(parts.last!), (0...65535).contains(port) else {
            throw ValidationError("The address '\(address)' must be HOST:PORT, for example 127.0.0.1:8080.")
        }
        let host = parts.dropLast().joined(separator: ":")
        config.host = host.isEmpty ? "127.0.0.1" : host
        config.port = port
        config.database = database
        guard maxUploadMB > 0 else { throw ValidationError("--max-upload-mb must be positive.") }
        config.maxUploadBytes = Int(maxUploadMB * 1024 * 1024)
        guard rate > 0, burst >= 1 else { throw ValidationError("--rate must be positive and --burst at least 1.") }
        config.rateLimit = RateLimit(perSecond: rate, burst: burst)
        guard wait >= 0 else { throw ValidationError("--wait must be 0 or more seconds.") }
        config.predictionTimeout = .milliseconds(Int64(wait * 1000))
        guard connections >= 1 else { throw ValidationError("--connections must be at least 1.") }
        config.databaseConnections = connections
        config.openRead = openRead
        config.logger = Logger(label: "galaxy.web")
        return config
    }
}

struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web", abstract: "Serve the HTTP API and the upload page.",
        discussion: """
            Serves the JSON API (/openapi.json describes it), the upload page at / and /metrics. \
            Scoring needs a daemon ('galaxy serve', or 'galaxy serve --http ADDR' to run both in one \
            process). Listens on 127.0.0.1 by default: put a TLS reverse proxy in front for other \
            machines (docs/web.md).
            """)

    @Option(help: "Address to listen on, HOST:PORT.")
    var address: String = "127.0.0.1:8080"

    @Option(help: "PostgreSQL connection URL or key=value string (default: DATABASE_URL, then PG* variables).")
    var database: String?

    @OptionGroup var options: WebOptions

    func run() async throws {
        var config = try options.configuration(address: address, database: database)
        let host = config.host
        config.onListening = { port in
            FileHandle.standardError.write(Data("galaxy web listening on http://\(host):\(port)/\n".utf8))
        }
        let app = try await buildApplication(config)
        do {
            try await ServiceRunner.run([.init(service: app, name: "HTTP server (--address \(address))")], logger: config.logger)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
