import Foundation
import GalaxyCore
import Logging

/// Everything `buildApplication` needs; the CLI fills it from flags, tests set a few fields.
public struct WebConfiguration: Sendable {
    /// Address to listen on; `127.0.0.1` by default (put a TLS reverse proxy in front for others).
    public var host: String = "127.0.0.1"
    /// Port to listen on; 0 picks a free one (tests).
    public var port: Int = 8080
    /// libpq connection string or URL; nil means `DATABASE_URL` or the `PG*` variables.
    public var database: String?
    /// Database connections (and threads) for requests.
    public var databaseConnections: Int = 8
    /// Largest accepted request body, in bytes.
    public var maxUploadBytes: Int = 10 * 1024 * 1024
    /// Images per multipart upload at most.
    public var maxImagesPerUpload: Int = 64
    /// How long an upload waits for its prediction before answering 202 with the image id.
    public var predictionTimeout: Duration = .seconds(30)
    /// Requests per token.
    public var rateLimit: RateLimit = RateLimit(perSecond: 20, burst: 60)
    /// Allow reads without a token (local use); writes always need a write token.
    public var openRead: Bool = false
    /// Seconds between live status events on `/v1/events`.
    public var eventInterval: Duration = .seconds(1)
    /// The process's registry: the app adds its HTTP series, and `/metrics` renders all of it (the
    /// scoring daemon's series too under `galaxy serve --http`).
    public var metrics: MetricsRegistry = MetricsRegistry()
    /// Called with the bound port once the server listens.
    public var onListening: (@Sendable (Int) async -> Void)?
    /// Where the app logs.
    public var logger: Logger = Logger(label: "galaxy.web")

    public init() {}
}
