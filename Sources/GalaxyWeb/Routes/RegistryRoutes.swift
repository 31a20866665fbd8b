import Foundation
import GalaxyPostgres
import Hummingbird

extension WebAPI {
    /// `POST /v1/models/{id}/activate`: makes a validated model the active one.
    func activate(modelID: Int64, request: Request) async throws -> Response {
        var rescore = true
        if let text = request.uri.queryParameters["rescore"] {
            guard let value = Bool(String(text)) else {
                throw APIError.badRequest("'rescore' must be true or false.", code: "invalid_parameter")
            }
            rescore = value
        }
        let models = try await store.models()
        guard let model = models.first(where: { $0.id == modelID }) else { throw APIError.notFound("Model \(modelID)") }
        guard model.status == "ready" else {
            throw APIError(
                .conflict, code: "model_not_ready",
                "Model '\(model.name)' is \(model.status)\(model.error.map { " (\($0))" } ?? ""); only a validated (ready) model can be activated.")
        }
        try await store.activateModel(id: modelID, rescore: rescore)
        guard let updated = try await store.models().first(where: { $0.id == modelID }) else {
            throw APIError.notFound("Model \(modelID)")
        }
        return try JSONResponse.make(updated)
    }

    /// `POST /v1/batches`: starts scoring a selection of images (all by default) with a model
    /// (the active one by default).
    func startBatch(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        struct StartBatch: Decodable {
            var model: String?
            var selection: String?
        }
        var buffer = try await request.body.collect(upTo: 64 * 1024)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let input: StartBatch
        if bytes.isEmpty {
            input = StartBatch()
        } else {
            do {
                input = try JSONDecoder().decode(StartBatch.self, from: Data(bytes))
            } catch {
                throw APIError.badRequest(
                    "The body must be a JSON object like {\"model\": \"name\", \"selection\": \"unscored\"}; both fields are optional.",
                    code: "invalid_json")
            }
        }
        let selection = input.selection ?? "unscored"
        guard BatchSelection.allowed.contains(selection) else {
            throw APIError(
                .unprocessableContent, code: "invalid_selection",
                "'selection' must be one of \(BatchSelection.allowed.joined(separator: ", ")).")
        }
        let id = try await store.startBatch(model: input.model, selection: selection)
        guard let batch = try await store.batches(id: id, limit: 1).first else { throw APIError.notFound("Batch \(id)") }
        return try JSONResponse.make(batch, status: .created, headers: [.location: "/v1/batches/\(id)"])
    }

    /// `POST /v1/batches/{id}/cancel`.
    func cancelBatch(id: Int64) async throws -> Response {
        guard try await store.batches(id: id, limit: 1).first != nil else { throw APIError.notFound("Batch \(id)") }
        try await store.cancelBatch(id: id)
        guard let batch = try await store.batches(id: id, limit: 1).first else { throw APIError.notFound("Batch \(id)") }
        return try JSONResponse.make(batch)
    }
}

/// The image selections a batch can score.
enum BatchSelection {
    static let allowed = ["unscored", "all"]
}
