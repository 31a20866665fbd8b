import GalaxyCore
import Hummingbird
import Logging

/// The scrape and liveness answers, shared by the API and the metrics listener.
enum MetricsRoutes {
    /// The whole registry in the Prometheus text format.
    static func scrape(_ registry: MetricsRegistry) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: registry.prometheusText())))
    }

    static func health() throws -> Response { try JSONResponse.make(["status": "ok"]) }
}

/// `/metrics` and `/healthz` on an address of their own (`galaxy serve --metrics-address`), served
/// by Hummingbird like the API, so scrapes are answered concurrently, and rendered from the
/// process's one registry. No token: bind it to an address only the scraper reaches.
public func buildMetricsApplication(
    host: String, port: Int, registry: MetricsRegistry, logger: Logger,
    onListening: (@Sendable (Int) async -> Void)? = nil
) -> some ApplicationProtocol {
    let router = Router()
    router.get("/metrics") { _, _ in MetricsRoutes.scrape(registry) }
    router.get("/healthz") { _, _ in try MetricsRoutes.health() }
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "galaxy"),
        onServerRunning: { channel in await onListening?(channel.localAddress?.port ?? port) },
        logger: logger)
}
