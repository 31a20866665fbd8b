import Foundation
import Hummingbird
import Logging
import NIOCore

/// The request context: Hummingbird's basics, with the upload limit raised to ours.
public struct WebRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Bodies are collected with our own limit (`WebConfiguration.maxUploadBytes`) in the handlers.
    public var maxUploadSize: Int { Int.max }
}

/// Builds the web application: routes, middleware and the database threads behind them.
/// `galaxy web`, `galaxy serve --http` and the tests call this; run it with `runService()`.
public func buildApplication(_ config: WebConfiguration) async throws -> some ApplicationProtocol {
    let store = WebStore(
        database: config.database, connections: config.databaseConnections, logger: config.logger)
    let metrics = HTTPMetrics(registry: config.metrics)
    let router = Router(context: WebRequestContext.self)
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    router.add(middleware: JSONErrorMiddleware())
    let api = WebAPI(config: config, store: store, metrics: metrics)
    api.register(on: router)
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "galaxy"),
        onServerRunning: { channel in
            await config.onListening?(channel.localAddress?.port ?? config.port)
        },
        logger: config.logger)
    app.addServices(StoreShutdown(store: store))
    return app
}

import ServiceLifecycle

/// Closes the database threads when the application shuts down.
struct StoreShutdown: Service {
    let store: WebStore

    func run() async throws {
        try? await gracefulShutdown()
        store.shutdown()
    }
}
