import Foundation
import GalaxyPostgres

/// A prediction with its model and timings.
public struct PredictionRow: Sendable, Hashable {
    public var imageID: Int64
    public var label: String
    public var galaxyClass: String
    public var probabilities: [String: Double]
    public var modelID: Int64
    public var modelName: String
    /// Hex.
    public var modelSHA256: String
    /// The arithmetic of the model's convolutions when it scored: `fp32` or `bf16`.
    public var precision: String
    public var latencyMilliseconds: Float?
    /// From the image's insert to its prediction.
    public var scoredAfterMilliseconds: Double?
    public var createdAt: Date
    public var scoredAt: Date
}

/// A job that failed for good, as the active model's answer for its image.
public struct FailedImage: Sendable, Hashable {
    public var imageID: Int64
    public var error: String
    /// `truncated_image`, ...; nil for jobs failed before schema version 3.
    public var errorCode: String?
}

/// Where an image without a prediction stands.
public struct PendingImage: Sendable, Hashable {
    public enum State: String, Sendable { case queued, scoring, failed }
    public var imageID: Int64
    public var state: State
    public var error: String?
    public var createdAt: Date
}

/// A labelled row of `galaxy.images`, for training.
public struct LabeledRow: Sendable {
    public var id: Int64
    public var fileName: String?
    public var label: String
    public var jpeg: [UInt8]
}

extension GalaxyStore {
    /// Stores the images in one statement (so either all or none are stored); the insert trigger
    /// queues each for scoring. Returns their ids in order.
    public func insertImages(_ jpegs: [[UInt8]]) throws -> [Int64] {
        let values = jpegs.map { PostgresBytea($0) }
        return try connection.query(
            """
            insert into galaxy.images (jpeg)
            select j from unnest(\(values)::bytea[]) with ordinality as u(j, n) order by n
            returning id
            """
        ).column(0, as: Int64.self)
    }

    /// The latest prediction of each image that has one (the active model's first).
    public func predictions(imageIDs ids: [Int64]) throws -> [Int64: PredictionRow] {
        let rows = try connection.query(
            """
            select distinct on (p.image_id) \(unsafeSQL: Self.predictionColumns)
            from galaxy.predictions p
            join galaxy.models m on m.id = p.model_id
            join galaxy.images i on i.id = p.image_id
            where p.image_id = any(\(ids)::bigint[])
            order by p.image_id, m.active desc, p.scored_at desc
            """)
        var found: [Int64: PredictionRow] = [:]
        for row in rows {
            let prediction = try Self.prediction(row)
            found[prediction.imageID] = prediction
        }
        return found
    }

    /// The images whose job with the active model failed for good and is not queued again; the
    /// same rule as `predict_galaxy` (`raise_if_failed`), which also asks about one model only.
    public func failures(imageIDs ids: [Int64]) throws -> [Int64: FailedImage] {
        let rows = try connection.query(
            """
            select distinct on (f.image_id) f.image_id, f.error, f.error_code
            from galaxy.failed_jobs f
            join galaxy.models m on m.id = f.model_id and m.active
            where f.image_id = any(\(ids)::bigint[])
              and not exists (select 1 from galaxy.queue q
                              where q.image_id = f.image_id and (q.model_id = f.model_id or q.model_id is null))
            order by f.image_id, f.failed_at desc
            """)
        var found: [Int64: FailedImage] = [:]
        for row in rows {
            let failed = FailedImage(
                imageID: try row.decode(Int64.self, at: 0), error: try row.decode(String.self, at: 1),
                errorCode: try row.decode(String?.self, at: 2))
            found[failed.imageID] = failed
        }
        return found
    }

    /// Where an image without a prediction stands, nil when there is no such image.
    public func pendingImage(id: Int64) throws -> PendingImage? {
        guard
            let row = try connection.query(
                """
                select i.created_at,
                       (select case when q.lease_expires_at > now() then 'scoring' else 'queued' end
                          from galaxy.queue q where q.image_id = i.id order by q.id desc limit 1)
                from galaxy.images i where i.id = \(id)
                """
            ).first
        else { return nil }
        let created = try row.decode(Date.self, at: 0)
        if let queued = try row.decode(String?.self, at: 1).flatMap(PendingImage.State.init(rawValue:)) {
            return PendingImage(imageID: id, state: queued, error: nil, createdAt: created)
        }
        if let failed = try failures(imageIDs: [id])[id] {
            return PendingImage(imageID: id, state: .failed, error: failed.error, createdAt: created)
        }
        return PendingImage(imageID: id, state: .queued, error: nil, createdAt: created)
    }

    /// The active model's predictions, newest image first, optionally of one class, before an
    /// image id (paging).
    public func recentPredictions(galaxyClass: String?, limit: Int, before: Int64?) throws -> [PredictionRow] {
        try connection.query(
            """
            select \(unsafeSQL: Self.predictionColumns)
            from galaxy.predictions p
            join galaxy.models m on m.id = p.model_id and m.active
            join galaxy.images i on i.id = p.image_id
            where (\(galaxyClass)::text is null or p.class = \(galaxyClass)::text)
              and (\(before)::bigint is null or p.image_id < \(before)::bigint)
            order by p.image_id desc
            limit \(limit)::int
            """
        ).map(Self.prediction)
    }

    private static let predictionColumns = """
        p.image_id, p.label, p.class, p.probabilities::text, m.id, m.name, encode(m.sha256, 'hex'), p.latency_ms,
        extract(epoch from p.scored_at - i.created_at) * 1000, i.created_at, p.scored_at, p.precision
        """

    private static func prediction(_ row: PostgresRow) throws -> PredictionRow {
        let json = try row.decode(String.self, at: 3)
        return PredictionRow(
            imageID: try row.decode(Int64.self, at: 0), label: try row.decode(String.self, at: 1),
            galaxyClass: try row.decode(String.self, at: 2),
            probabilities: try JSONDecoder().decode([String: Double].self, from: Data(json.utf8)),
            modelID: try row.decode(Int64.self, at: 4), modelName: try row.decode(String.self, at: 5),
            modelSHA256: try row.decode(String.self, at: 6), precision: try row.decode(String.self, at: 11),
            latencyMilliseconds: try row.decode(Float?.self, at: 7),
            scoredAfterMilliseconds: try row.decode(Double?.self, at: 8), createdAt: try row.decode(Date.self, at: 9),
            scoredAt: try row.decode(Date.self, at: 10))
    }

    /// The stored JPEG of an image, nil when there is no such image.
    public func jpeg(imageID: Int64) throws -> [UInt8]? {
        try connection.query("select jpeg from galaxy.images where id = \(imageID)").first?.decode([UInt8].self, at: 0)
    }

    /// An image's JPEG and the preprocessing that applies to it, in its one recorded form: the one
    /// recorded with its latest prediction, else the active model's, else `fallback`. Nil when
    /// there is no such image.
    public func jpegAndPreprocessing(imageID: Int64, fallback: String) throws -> (jpeg: [UInt8], preprocessing: String)? {
        let rows = try connection.query(
            """
            select i.jpeg,
                   coalesce((select p.preprocessing::text from galaxy.predictions p
                               where p.image_id = i.id and p.preprocessing <> '{}'::jsonb
                               order by p.scored_at desc limit 1),
                            (select (m.metadata -> 'preprocessing')::text from galaxy.models m where m.active),
                            \(fallback))
            from galaxy.images i where i.id = \(imageID)
            """)
        guard let row = rows.first else { return nil }
        return (try row.decode([UInt8].self, at: 0), try row.decode(String.self, at: 1))
    }

    /// Every row of `galaxy.images` with a known label, in id order.
    public func labeledImages() throws -> [LabeledRow] {
        try connection.query("select id, file_name, label, jpeg from galaxy.images where label is not null order by id")
            .map { row in
                LabeledRow(
                    id: try row.decode(Int64.self, at: 0), fileName: try row.decode(String?.self, at: 1),
                    label: try row.decode(String.self, at: 2), jpeg: try row.decode([UInt8].self, at: 3))
            }
    }
}
