import Foundation
import GalaxyImage
import GalaxyPostgres
import GalaxyStore
import Logging

/// The web service's way to the database: `GalaxyStore`'s operations run on the database
/// threads (libpq blocks), their rows turned into the API's bodies. No SQL here.
final class WebStore: Sendable {
    private let pool: BlockingPool<PostgresConnection>

    /// Opens up to `connections` connections (lazily) to `database` (a libpq string or URL; nil
    /// means `DATABASE_URL` or the `PG*` variables).
    init(database: String?, connections: Int, logger: Logger) {
        pool = BlockingPool(threads: connections, name: "galaxy-web-db") {
            try PostgresConnection(conninfo: database, applicationName: "galaxy web", logger: logger)
        }
    }

    /// Closes the connections after the queued statements ran.
    func shutdown() { pool.shutdown() }

    /// Runs `body` with the store on a database thread; a lost connection is reopened next time.
    func run<T: Sendable>(_ body: @escaping @Sendable (GalaxyStore) throws -> T) async throws -> T {
        try await pool.run(isBroken: { ($0 as? PostgresError)?.isConnectionLoss ?? false }) { connection in
            try body(GalaxyStore(connection: connection))
        }
    }

    func token(secret: String) async throws -> TokenIdentity? {
        try await run { try $0.token(secret: secret) }
    }

    /// Whether the database answers, and the active model's name if one is active.
    func readiness() async throws -> String? {
        try await run { try $0.activeModelName() }
    }

    // MARK: - Images and predictions

    func insertImages(_ jpegs: [[UInt8]]) async throws -> [Int64] {
        try await run { try $0.insertImages(jpegs) }
    }

    func predictions(imageIDs ids: [Int64]) async throws -> [Int64: PredictionBody] {
        try await run { try $0.predictions(imageIDs: ids) }.mapValues(Self.body)
    }

    /// Predictions of the images that have one, and `failed` entries for those whose job with the
    /// active model failed for good: what a waiting upload needs.
    func finishedPredictions(imageIDs ids: [Int64]) async throws -> [Int64: PredictionBody] {
        try await run { store in
            var found = try store.predictions(imageIDs: ids).mapValues(Self.body)
            let missing = ids.filter { found[$0] == nil }
            guard !missing.isEmpty else { return found }
            for (id, failed) in try store.failures(imageIDs: missing) {
                found[id] = PredictionBody(id: id, status: "failed", error: failed.error)
            }
            return found
        }
    }

    /// Where an image without a prediction stands: queued, being scored, failed, or unknown (nil).
    func pendingState(imageID: Int64) async throws -> PredictionBody? {
        guard let pending = try await run({ try $0.pendingImage(id: imageID) }) else { return nil }
        var body = PredictionBody(id: imageID, status: pending.state.rawValue)
        body.createdAt = pending.createdAt
        body.error = pending.error
        return body
    }

    func recentPredictions(galaxyClass: String?, limit: Int, before: Int64?) async throws -> [PredictionBody] {
        try await run { try $0.recentPredictions(galaxyClass: galaxyClass, limit: limit, before: before) }.map(Self.body)
    }

    private static func body(_ row: PredictionRow) -> PredictionBody {
        var body = PredictionBody(id: row.imageID, status: "done")
        body.label = row.label
        body.galaxyClass = row.galaxyClass
        body.probabilities = row.probabilities
        body.model = ModelRef(id: row.modelID, name: row.modelName, sha256: row.modelSHA256, precision: row.precision)
        body.timings = Timings(
            inferenceMs: row.latencyMilliseconds.map(Double.init), scoredAfterMs: row.scoredAfterMilliseconds)
        body.createdAt = row.createdAt
        body.scoredAt = row.scoredAt
        return body
    }

    func jpeg(imageID: Int64) async throws -> [UInt8]? {
        try await run { try $0.jpeg(imageID: imageID) }
    }

    /// An image's JPEG and the preprocessing that applies to it (`PreprocessOptions.json`); with
    /// neither a prediction nor an active model, the default options. Nil when there is no such image.
    func jpegAndPreprocessing(imageID: Int64) async throws -> (jpeg: [UInt8], preprocessing: String)? {
        let fallback = PreprocessOptions().json
        return try await run { try $0.jpegAndPreprocessing(imageID: imageID, fallback: fallback) }
    }

    // MARK: - Queue, batches, models

    /// Queue, scoring and batch counts for the live status panel.
    func status() async throws -> StatusBody {
        try await run { store in
            let counts = try store.queueCounts()
            return StatusBody(
                queued: counts.queued, scoring: counts.scoring, failed: counts.failed,
                predictions: counts.predictions, images: counts.images, daemons: counts.daemons,
                batches: try store.batches(limit: 10).map(Self.body))
        }
    }

    func batches(id: Int64?, limit: Int) async throws -> [BatchBody] {
        try await run { try $0.batches(id: id, limit: limit) }.map(Self.body)
    }

    private static func body(_ row: BatchRow) -> BatchBody {
        BatchBody(
            id: row.id, modelID: row.modelID, modelName: row.modelName, selection: row.selection,
            priority: row.priority, total: row.total, done: row.done, failed: row.failed, status: row.status,
            createdAt: row.createdAt, finishedAt: row.finishedAt)
    }

    func startBatch(model: String?, selection: String) async throws -> Int64 {
        try await run { try $0.startBatch(selection: selection, model: model) }
    }

    func cancelBatch(id: Int64) async throws {
        _ = try await run { try $0.cancelBatch(id: id) }
    }

    func models() async throws -> [ModelBody] {
        try await run { try $0.models() }.map { row in
            ModelBody(
                id: row.id, name: row.name, sha256: row.sha256, status: row.status, active: row.active,
                error: row.error, labels: row.labels, metadata: JSONValue.parse(row.metadataJSON),
                createdAt: row.createdAt, validatedAt: row.validatedAt, activatedAt: row.activatedAt,
                predictions: row.predictions)
        }
    }

    func activateModel(id: Int64, rescore: Bool) async throws {
        _ = try await run { try $0.activateModel(id: id, rescore: rescore) }
    }
}
