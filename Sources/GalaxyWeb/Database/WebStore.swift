import Foundation
import GalaxyImage
import GalaxyPostgres
import Logging

/// Every SQL statement the web service runs, each parameterised, run on the database threads.
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

    /// Runs `body` with a connection on a database thread; a lost connection is reopened next time.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await pool.run(isBroken: { ($0 as? PostgresError)?.isConnectionLoss ?? false }, body)
    }

    // MARK: - Tokens

    func token(secret: String) async throws -> TokenIdentity? {
        let bytes = PostgresBytea(Array(secret.utf8))
        return try await run { db in
            let rows = try db.query(
                """
                select id, name, scope from galaxy.api_tokens
                where token_sha256 = sha256(\(bytes)) and revoked_at is null
                """)
            guard let row = rows.first else { return nil }
            return TokenIdentity(
                id: try row.decode(Int64.self, at: 0), name: try row.decode(String.self, at: 1),
                scope: TokenScope(rawValue: try row.decode(String.self, at: 2)) ?? .read)
        }
    }

    // MARK: - Health

    /// Whether the database answers, and the active model's name if one is active.
    func readiness() async throws -> String? {
        try await run { db in
            try db.query("select name from galaxy.models where active").first?.decode(String.self, at: 0)
        }
    }

    // MARK: - Images and predictions

    /// Stores the images in one statement (so either all or none are stored); the insert trigger
    /// queues each for scoring. Returns their ids in order.
    func insertImages(_ jpegs: [[UInt8]]) async throws -> [Int64] {
        let values = jpegs.map { PostgresBytea($0) }
        return try await run { db in
            let rows = try db.query(
                """
                insert into galaxy.images (jpeg)
                select j from unnest(\(values)::bytea[]) with ordinality as u(j, n) order by n
                returning id
                """)
            return try rows.column(0, as: Int64.self)
        }
    }

    /// The latest prediction of each image that has one (the active model's first).
    func predictions(imageIDs ids: [Int64]) async throws -> [Int64: PredictionBody] {
        try await run { db in
            let rows = try db.query(
                """
                select distinct on (p.image_id) p.image_id, p.label, p.class, p.probabilities::text,
                       m.id, m.name, encode(m.sha256, 'hex'), p.latency_ms,
                       extract(epoch from p.scored_at - i.created_at) * 1000, i.created_at, p.scored_at
                from galaxy.predictions p
                join galaxy.models m on m.id = p.model_id
                join galaxy.images i on i.id = p.image_id
                where p.image_id = any(\(ids)::bigint[])
                order by p.image_id, m.active desc, p.scored_at desc
                """)
            var found: [Int64: PredictionBody] = [:]
            for row in rows {
                let body = try Self.prediction(row)
                found[body.id] = body
            }
            return found
        }
    }

    /// Predictions of the images that have one, and `failed` entries for those whose job failed
    /// for good: what a waiting upload needs, in one round trip.
    func finishedPredictions(imageIDs ids: [Int64]) async throws -> [Int64: PredictionBody] {
        var found = try await predictions(imageIDs: ids)
        let missing = ids.filter { found[$0] == nil }
        if missing.isEmpty { return found }
        let failed: [(Int64, String)] = try await run { db in
            let rows = try db.query(
                """
                select distinct on (image_id) image_id, error from galaxy.failed_jobs
                where image_id = any(\(missing)::bigint[])
                  and not exists (select 1 from galaxy.queue q where q.image_id = failed_jobs.image_id)
                order by image_id, failed_at desc
                """)
            return try rows.map { (try $0.decode(Int64.self, at: 0), try $0.decode(String.self, at: 1)) }
        }
        for (id, error) in failed {
            found[id] = PredictionBody(id: id, status: "failed", error: error)
        }
        return found
    }

    /// Where an image without a prediction stands: queued, being scored, failed, or unknown (nil).
    func pendingState(imageID: Int64) async throws -> PredictionBody? {
        try await run { db in
            let rows = try db.query(
                """
                select i.created_at,
                       (select case when q.lease_expires_at > now() then 'scoring' else 'queued' end
                          from galaxy.queue q where q.image_id = i.id order by q.id desc limit 1),
                       (select f.error from galaxy.failed_jobs f where f.image_id = i.id
                          order by f.failed_at desc limit 1)
                from galaxy.images i where i.id = \(imageID)
                """)
            guard let row = rows.first else { return nil }
            var body = PredictionBody(id: imageID, status: "queued")
            body.createdAt = try row.decode(Date.self, at: 0)
            if let state = try row.decode(String?.self, at: 1) {
                body.status = state
            } else if let error = try row.decode(String?.self, at: 2) {
                body.status = "failed"
                body.error = error
            }
            return body
        }
    }

    /// Recent predictions, newest first, optionally of one class, before an image id (paging).
    func recentPredictions(galaxyClass: String?, limit: Int, before: Int64?) async throws -> [PredictionBody] {
        try await run { db in
            let rows = try db.query(
                """
                select p.image_id, p.label, p.class, p.probabilities::text,
                       m.id, m.name, encode(m.sha256, 'hex'), p.latency_ms,
                       extract(epoch from p.scored_at - i.created_at) * 1000, i.created_at, p.scored_at
                from galaxy.predictions p
                join galaxy.models m on m.id = p.model_id and m.active
                join galaxy.images i on i.id = p.image_id
                where (\(galaxyClass)::text is null or p.class = \(galaxyClass)::text)
                  and (\(before)::bigint is null or p.image_id < \(before)::bigint)
                order by p.image_id desc
                limit \(limit)::int
                """)
            return try rows.map(Self.prediction)
        }
    }

    private static func prediction(_ row: PostgresRow) throws -> PredictionBody {
        var body = PredictionBody(id: try row.decode(Int64.self, at: 0), status: "done")
        body.label = try row.decode(String.self, at: 1)
        body.galaxyClass = try row.decode(String.self, at: 2)
        let json = try row.decode(String.self, at: 3)
        body.probabilities = try JSONDecoder().decode([String: Double].self, from: Data(json.utf8))
        body.model = ModelRef(
            id: try row.decode(Int64.self, at: 4), name: try row.decode(String.self, at: 5),
            sha256: try row.decode(String.self, at: 6))
        body.timings = Timings(
            inferenceMs: try row.decode(Float?.self, at: 7).map(Double.init),
            scoredAfterMs: try row.decode(Double?.self, at: 8))
        body.createdAt = try row.decode(Date.self, at: 9)
        body.scoredAt = try row.decode(Date.self, at: 10)
        return body
    }

    /// The stored JPEG of an image, nil when there is no such image.
    func jpeg(imageID: Int64) async throws -> [UInt8]? {
        try await run { db in
            try db.query("select jpeg from galaxy.images where id = \(imageID)").first?.decode(
                [UInt8].self, at: 0)
        }
    }

    /// An image's JPEG and the preprocessing that applies to it (`PreprocessOptions.json`): the one
    /// recorded with its latest prediction, else the active model's. Nil when there is no such image.
    func jpegAndPreprocessing(imageID: Int64) async throws -> (jpeg: [UInt8], preprocessing: String)? {
        try await run { db in
            let rows = try db.query(
                """
                select i.jpeg,
                       coalesce((select p.preprocessing::text from galaxy.predictions p
                                   where p.image_id = i.id and p.preprocessing <> '{}'::jsonb
                                   order by p.scored_at desc limit 1),
                                (select (m.metadata -> 'preprocessing')::text from galaxy.models m where m.active),
                                \(PreprocessOptions().json))
                from galaxy.images i where i.id = \(imageID)
                """)
            guard let row = rows.first else { return nil }
            return (try row.decode([UInt8].self, at: 0), try row.decode(String.self, at: 1))
        }
    }

    // MARK: - Queue

    /// Queue, scoring and batch counts for the live status panel.
    func status() async throws -> StatusBody {
        try await run { db in
            let counts = try db.query(
                """
                select (select count(*) from galaxy.queue where lease_expires_at is null or lease_expires_at <= now()),
                       (select count(*) from galaxy.queue where lease_expires_at > now()),
                       (select count(*) from galaxy.failed_jobs),
                       (select count(*) from galaxy.predictions),
                       (select count(*) from galaxy.images),
                       (select count(*) from galaxy.daemons where stopped_at is null
                          and heartbeat_at > now() - interval '30 seconds')
                """
            ).first!
            var body = StatusBody(
                queued: try counts.decode(Int64.self, at: 0), scoring: try counts.decode(Int64.self, at: 1),
                failed: try counts.decode(Int64.self, at: 2), predictions: try counts.decode(Int64.self, at: 3),
                images: try counts.decode(Int64.self, at: 4), daemons: try counts.decode(Int64.self, at: 5),
                batches: [])
            body.batches = try Self.batches(db, id: nil, limit: 10)
            return body
        }
    }

    // MARK: - Batches

    static func batches(_ db: PostgresConnection, id: Int64?, limit: Int) throws -> [BatchBody] {
        let rows = try db.query(
            """
            select id, model_id, model_name, selection, priority, total, done, failed, status,
                   created_at, finished_at
            from galaxy.batches
            where (\(id)::bigint is null or id = \(id)::bigint)
            order by id desc limit \(limit)::int
            """)
        return try rows.map { row in
            BatchBody(
                id: try row.decode(Int64.self, at: 0), modelID: try row.decode(Int64?.self, at: 1),
                modelName: try row.decode(String.self, at: 2), selection: try row.decode(String.self, at: 3),
                priority: try row.decode(Int.self, at: 4), total: try row.decode(Int64.self, at: 5),
                done: try row.decode(Int64.self, at: 6), failed: try row.decode(Int64.self, at: 7),
                status: try row.decode(String.self, at: 8), createdAt: try row.decode(Date.self, at: 9),
                finishedAt: try row.decode(Date?.self, at: 10))
        }
    }

    func batches(id: Int64?, limit: Int) async throws -> [BatchBody] {
        try await run { db in try Self.batches(db, id: id, limit: limit) }
    }

    // MARK: - Models

    func models() async throws -> [ModelBody] {
        try await run { db in
            let rows = try db.query(
                """
                select id, name, encode(sha256, 'hex'), status, active, error, labels,
                       metadata::text, created_at, validated_at, activated_at,
                       (select count(*) from galaxy.predictions p where p.model_id = m.id)
                from galaxy.models m order by id
                """)
            return try rows.map { row in
                ModelBody(
                    id: try row.decode(Int64.self, at: 0), name: try row.decode(String.self, at: 1),
                    sha256: try row.decode(String.self, at: 2), status: try row.decode(String.self, at: 3),
                    active: try row.decode(Bool.self, at: 4), error: try row.decode(String?.self, at: 5),
                    labels: try row.decode([String]?.self, at: 6),
                    metadata: JSONValue.parse(try row.decode(String.self, at: 7)),
                    createdAt: try row.decode(Date.self, at: 8), validatedAt: try row.decode(Date?.self, at: 9),
                    activatedAt: try row.decode(Date?.self, at: 10), predictions: try row.decode(Int64.self, at: 11))
            }
        }
    }
}
