import Foundation
import Hummingbird

/// The model that made a prediction.
struct ModelRef: Codable, Sendable, Equatable {
    var id: Int64
    var name: String
    var sha256: String
    /// The arithmetic of its convolutions when it scored: `fp32`, or `bf16` for a checked variant.
    var precision: String
}

/// Where the time went, in milliseconds.
struct Timings: Codable, Sendable, Equatable {
    /// Decode, preprocess and inference inside the daemon.
    var inferenceMs: Double?
    /// From the image's insert to its prediction's commit (queue wait included).
    var scoredAfterMs: Double?
    /// Storing the upload in the database (uploads only).
    var storeMs: Double?
    /// The whole request inside this server (uploads only).
    var totalMs: Double?

    enum CodingKeys: String, CodingKey {
        case inferenceMs = "inference_ms", scoredAfterMs = "scored_after_ms", storeMs = "store_ms"
        case totalMs = "total_ms"
    }
}

/// One image's prediction, or where it stands when it has none yet.
struct PredictionBody: Codable, Sendable, Equatable {
    /// The image id.
    var id: Int64
    /// `done`, `queued`, `scoring` or `failed`.
    var status: String
    var label: String?
    var galaxyClass: String?
    var probabilities: [String: Double]?
    var model: ModelRef?
    var timings: Timings?
    var error: String?
    var createdAt: Date?
    var scoredAt: Date?
    var filename: String?

    enum CodingKeys: String, CodingKey {
        case id, status, label, galaxyClass = "class", probabilities, model, timings, error
        case createdAt = "created_at", scoredAt = "scored_at", filename
    }
}

struct PredictionList: Codable, Sendable {
    var predictions: [PredictionBody]
}

struct BatchBody: Codable, Sendable, Equatable {
    var id: Int64
    var modelID: Int64?
    var modelName: String
    var selection: String
    var priority: Int
    var total: Int64
    var done: Int64
    var failed: Int64
    var status: String
    var createdAt: Date
    var finishedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, modelID = "model_id", modelName = "model_name", selection, priority, total, done
        case failed, status, createdAt = "created_at", finishedAt = "finished_at"
    }
}

struct BatchList: Codable, Sendable {
    var batches: [BatchBody]
}

struct StatusBody: Codable, Sendable {
    var queued: Int64
    var scoring: Int64
    var failed: Int64
    var predictions: Int64
    var images: Int64
    var daemons: Int64
    var batches: [BatchBody]
}

struct ModelBody: Codable, Sendable {
    var id: Int64
    var name: String
    var sha256: String
    var status: String
    var active: Bool
    var error: String?
    var labels: [String]?
    var metadata: JSONValue
    var createdAt: Date
    var validatedAt: Date?
    var activatedAt: Date?
    var predictions: Int64

    enum CodingKeys: String, CodingKey {
        case id, name, sha256, status, active, error, labels, metadata, predictions
        case createdAt = "created_at", validatedAt = "validated_at", activatedAt = "activated_at"
    }
}

struct ModelList: Codable, Sendable {
    var models: [ModelBody]
}

/// Any JSON value, to pass documents from the database through unchanged.
enum JSONValue: Codable, Sendable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    static func parse(_ text: String) -> JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

/// JSON responses in one style: snake_case keys (spelled out: a key strategy would also rewrite
/// label names inside `probabilities`), ISO 8601 dates, sorted keys.
enum JSONResponse {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let data = try encoder.encode(value)
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
