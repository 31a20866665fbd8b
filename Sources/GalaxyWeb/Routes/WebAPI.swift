import Foundation
import Hummingbird
import NIOCore

/// The HTTP API: one place that lists every route and the scope it needs.
struct WebAPI: Sendable {
    let config: WebConfiguration
    let store: WebStore
    let metrics: HTTPMetrics
    let auth: Authenticator
    let waiter: PredictionWaiter

    init(config: WebConfiguration, store: WebStore, metrics: HTTPMetrics) {
        self.config = config
        self.store = store
        self.metrics = metrics
        self.auth = Authenticator(store: store, rateLimit: config.rateLimit, openRead: config.openRead)
        self.waiter = PredictionWaiter(store: store)
    }

    func register(on router: Router<WebRequestContext>) {
        router.get("/") { _, _ in PageRoutes.file(PageFiles.index, type: "text/html; charset=utf-8") }
        router.get("/app.js") { _, _ in PageRoutes.file(PageFiles.script, type: "text/javascript; charset=utf-8") }
        router.get("/style.css") { _, _ in PageRoutes.file(PageFiles.style, type: "text/css; charset=utf-8") }
        router.get("/openapi.json") { _, _ in PageRoutes.file(PageFiles.openAPI, type: "application/json") }
        router.get("/healthz") { _, _ in try MetricsRoutes.health() }
        router.get("/readyz") { _, _ in try await readiness() }
        router.get("/metrics") { request, _ in
            try await auth.authorize(request, scope: .read)
            return metricsResponse()
        }

        router.post("/v1/predictions") { request, context in try await upload(request, context) }
        router.get("/v1/predictions") { request, _ in
            try await auth.authorize(request, scope: .read)
            return try await recent(request)
        }
        router.get("/v1/predictions/{id}") { request, context in
            try await auth.authorize(request, scope: .read)
            return try await prediction(id: try Self.id(context))
        }
        router.get("/v1/images/{id}") { request, context in
            try await auth.authorize(request, scope: .read)
            guard let jpeg = try await store.jpeg(imageID: try Self.id(context)) else {
                throw APIError.notFound("Image \(try Self.id(context))")
            }
            return Self.bytes(jpeg, type: "image/jpeg", cache: "private, max-age=86400, immutable")
        }
        router.get("/v1/images/{id}/input.png") { request, context in
            try await auth.authorize(request, scope: .read)
            return try await inputPNG(id: try Self.id(context))
        }
        router.get("/v1/models") { request, _ in
            try await auth.authorize(request, scope: .read)
            return try JSONResponse.make(ModelList(models: try await store.models()))
        }
        router.post("/v1/models/{id}/activate") { request, context in
            try await auth.authorize(request, scope: .write)
            return try await activate(modelID: try Self.id(context), request: request)
        }
        router.get("/v1/batches") { request, _ in
            try await auth.authorize(request, scope: .read)
            return try JSONResponse.make(BatchList(batches: try await store.batches(id: nil, limit: 50)))
        }
        router.post("/v1/batches") { request, context in
            try await auth.authorize(request, scope: .write)
            return try await startBatch(request, context)
        }
        router.get("/v1/batches/{id}") { request, context in
            try await auth.authorize(request, scope: .read)
            let id = try Self.id(context)
            guard let batch = try await store.batches(id: id, limit: 1).first else {
                throw APIError.notFound("Batch \(id)")
            }
            return try JSONResponse.make(batch)
        }
        router.post("/v1/batches/{id}/cancel") { request, context in
            try await auth.authorize(request, scope: .write)
            return try await cancelBatch(id: try Self.id(context))
        }
        router.get("/v1/status") { request, _ in
            try await auth.authorize(request, scope: .read)
            return try JSONResponse.make(try await store.status())
        }
        router.get("/v1/events") { request, _ in
            try await auth.authorize(request, scope: .read)
            return events()
        }
        Self.refuseOtherMethods(on: router)
    }

    /// Answers 405 with an `Allow` header for the methods a known path does not take (without
    /// this the router would answer 404, as for an unknown path).
    static func refuseOtherMethods(on router: Router<WebRequestContext>) {
        let paths: [(String, [HTTPRequest.Method])] = [
            ("/", [.get]), ("/openapi.json", [.get]), ("/healthz", [.get]), ("/readyz", [.get]),
            ("/metrics", [.get]), ("/v1/predictions", [.get, .post]), ("/v1/predictions/{id}", [.get]),
            ("/v1/images/{id}", [.get]), ("/v1/images/{id}/input.png", [.get]), ("/v1/models", [.get]),
            ("/v1/models/{id}/activate", [.post]), ("/v1/batches", [.get, .post]), ("/v1/batches/{id}", [.get]),
            ("/v1/batches/{id}/cancel", [.post]), ("/v1/status", [.get]), ("/v1/events", [.get]),
        ]
        let all: [HTTPRequest.Method] = [.get, .post, .put, .delete, .patch, .trace, .options, .connect, HTTPRequest.Method("QUERY")!]
        for (path, allowed) in paths {
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            for method in all where !allowed.contains(method) {
                router.on(RouterPath(path), method: method) { _, _ -> Response in
                    throw APIError(
                        .methodNotAllowed, code: "method_not_allowed",
                        "\(path) does not take \(method.rawValue); it takes \(allow).", headers: [.allow: allow])
                }
            }
        }
    }

    // MARK: - Helpers

    /// The `{id}` path parameter as a positive 64-bit integer.
    static func id(_ context: WebRequestContext) throws -> Int64 {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), id > 0 else {
            throw APIError.badRequest("'\(text.prefix(40))' is not an id: ids are positive integers.", code: "invalid_id")
        }
        return id
    }

    static func bytes(_ bytes: [UInt8], type: String, cache: String = "no-store") -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: cache],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func metricsResponse() -> Response { MetricsRoutes.scrape(metrics.registry) }

    func readiness() async throws -> Response {
        struct Ready: Encodable {
            var status: String
            var database: Bool
            var activeModel: String?
            var message: String?
            enum CodingKeys: String, CodingKey { case status, database, activeModel = "active_model", message }
        }
        do {
            guard let model = try await store.readiness() else {
                return try JSONResponse.make(
                    Ready(status: "not_ready", database: true, message: "No model is active: add one with 'galaxy model add' and activate it."),
                    status: .serviceUnavailable)
            }
            return try JSONResponse.make(Ready(status: "ready", database: true, activeModel: model))
        } catch {
            return try JSONResponse.make(
                Ready(status: "not_ready", database: false, message: "The database does not answer: \(error)"
                    .split(separator: "\n").first.map(String.init)),
                status: .serviceUnavailable)
        }
    }

    func prediction(id: Int64) async throws -> Response {
        if let body = try await store.predictions(imageIDs: [id])[id] {
            return try JSONResponse.make(body)
        }
        guard let pending = try await store.pendingState(imageID: id) else {
            throw APIError.notFound("Image \(id)")
        }
        return try JSONResponse.make(pending)
    }

    func recent(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let galaxyClass = query["class"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        var limit = 24
        if let text = query["limit"] {
            guard let n = Int(text), (1...200).contains(n) else {
                throw APIError.badRequest("'limit' must be an integer from 1 to 200.", code: "invalid_parameter")
            }
            limit = n
        }
        var before: Int64?
        if let text = query["before"] {
            guard let n = Int64(text), n > 0 else {
                throw APIError.badRequest("'before' must be a positive image id.", code: "invalid_parameter")
            }
            before = n
        }
        let rows = try await store.recentPredictions(galaxyClass: galaxyClass, limit: limit, before: before)
        return try JSONResponse.make(PredictionList(predictions: rows))
    }
}
