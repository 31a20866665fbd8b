import Foundation
import GalaxyPostgres

/// One batch job and its counters.
public struct BatchRow: Sendable, Hashable {
    public var id: Int64
    public var modelID: Int64?
    public var modelName: String
    /// `all`, `unscored` or the query that chose the images.
    public var selection: String
    public var priority: Int
    public var total: Int64
    public var done: Int64
    public var failed: Int64
    /// `running`, `done` or `cancelled`.
    public var status: String
    public var createdAt: Date
    public var finishedAt: Date?
}

extension GalaxyStore {
    /// `start_batch`: selection is "all", "unscored" or a query whose first column is image ids;
    /// without `model` the active one, without `priority` the function's default.
    public func startBatch(selection: String, model: String?, priority: Int? = nil) throws -> Int64 {
        if let priority {
            return try connection.query(
                "select galaxy.start_batch(selection => \(selection)::text, model => \(model)::text, priority => \(priority)::int)"
            ).scalar(Int64.self)
        }
        return try connection.query("select galaxy.start_batch(selection => \(selection)::text, model => \(model)::text)")
            .scalar(Int64.self)
    }

    /// `cancel_batch`: returns how many queued jobs were removed.
    public func cancelBatch(id: Int64) throws -> Int64 {
        try connection.query("select galaxy.cancel_batch(\(id))").scalar(Int64.self)
    }

    /// One batch (`id`), or the most recent ones, newest first.
    public func batches(id: Int64? = nil, limit: Int = 20) throws -> [BatchRow] {
        try connection.query(
            """
            select id, model_id, model_name, selection, priority, total, done, failed, status,
                   created_at, finished_at
            from galaxy.batches
            where (\(id)::bigint is null or id = \(id)::bigint)
            order by id desc limit \(limit)::int
            """
        ).map { row in
            BatchRow(
                id: try row.decode(Int64.self, at: 0), modelID: try row.decode(Int64?.self, at: 1),
                modelName: try row.decode(String.self, at: 2), selection: try row.decode(String.self, at: 3),
                priority: try row.decode(Int.self, at: 4), total: try row.decode(Int64.self, at: 5),
                done: try row.decode(Int64.self, at: 6), failed: try row.decode(Int64.self, at: 7),
                status: try row.decode(String.self, at: 8), createdAt: try row.decode(Date.self, at: 9),
                finishedAt: try row.decode(Date?.self, at: 10))
        }
    }

    /// `batch_summary`: images per high-level class.
    public func batchSummary(id: Int64) throws -> [(galaxyClass: String, images: Int64)] {
        try connection.query("select class, images from galaxy.batch_summary(\(id))").map { row in
            (try row.decode(String.self, at: 0), try row.decode(Int64.self, at: 1))
        }
    }
}
