import Foundation
import GalaxyPostgres

/// One row of `galaxy.model_list`.
public struct ModelListing: Sendable, Hashable {
    public var id: Int64
    public var name: String
    public var status: String
    public var active: Bool
    public var sha256: String
    public var labels: [String]
    public var error: String?
    public var createdAt: String
}

/// The model registry and batch functions of the SQL interface, for the CLI and tests.
public final class ModelRegistry: @unchecked Sendable {
    /// The connection used (blocking calls: use from a dedicated thread or a CLI command).
    public let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// What `add` did.
    public struct Added: Sendable, Hashable {
        public var id: Int64
        public var sha256: String
        /// The rescoring batch when the model was activated.
        public var rescoreBatch: Int64?
    }

    /// Adds a model already validated by the engine: `add_model` then `model_validated` in one
    /// transaction, so the registry never holds a half-added model; with `activate`, the
    /// validation activates it and queues the rescoring batch.
    /// - Throws: `PostgresError` with the SQL interface's message and hint (name taken, ...).
    public func add(name: String, onnx: [UInt8], validated: ValidatedModel, activate: Bool) throws -> Added {
        try connection.transaction { c in
            let id = try c.query("select galaxy.add_model(\(name), \(PostgresBytea(onnx)), \(activate))")
                .scalar(Int64.self)
            _ = try c.query(
                "select galaxy.model_validated(\(id), \(PostgresJSONB(validated.metadataJSON)), \(validated.labels))"
            )
            let row = try c.query(
                """
                select m.sha256,
                       (select max(b.id) from galaxy.batches b where b.model_id = m.id)
                from galaxy.model_list m where m.id = \(id)
                """)
            let sha = try row.first?.decode(String.self, at: 0) ?? ""
            let batch = activate ? try row.first?.decode(Int64?.self, at: 1) : nil
            return Added(id: id, sha256: sha, rescoreBatch: batch)
        }
    }

    /// Every model, oldest first.
    public func list() throws -> [ModelListing] {
        try connection.query(
            """
            select id, name, status, active, sha256, coalesce(labels, '{}'), error,
                   to_char(created_at, 'YYYY-MM-DD HH24:MI')
            from galaxy.model_list order by id
            """
        ).map { row in
            ModelListing(
                id: try row.decode(Int64.self, at: 0), name: try row.decode(String.self, at: 1),
                status: try row.decode(String.self, at: 2), active: try row.decode(Bool.self, at: 3),
                sha256: try row.decode(String.self, at: 4), labels: try row.decode([String].self, at: 5),
                error: try row.decode(String?.self, at: 6), createdAt: try row.decode(String.self, at: 7))
        }
    }

    /// `activate_model`: returns the rescoring batch id, if one was queued.
    public func activate(name: String, rescore: Bool) throws -> Int64? {
        try connection.query("select galaxy.activate_model(\(name), \(rescore))").first?.decode(
            Int64?.self, at: 0) ?? nil
    }

    /// `remove_model`.
    public func remove(name: String) throws {
        _ = try connection.query("select galaxy.remove_model(\(name))")
    }

    /// `start_batch`: selection is "all", "unscored" or a query whose first column is image ids.
    public func startBatch(selection: String, model: String?, priority: Int) throws -> Int64 {
        try connection.query("select galaxy.start_batch(\(selection), \(model), \(priority))").scalar(
            Int64.self)
    }

    /// `cancel_batch`: returns how many queued jobs were removed.
    public func cancelBatch(id: Int64) throws -> Int64 {
        try connection.query("select galaxy.cancel_batch(\(id))").scalar(Int64.self)
    }

    /// One row of `galaxy.batch_progress`.
    public struct BatchProgress: Sendable, Hashable {
        public var id: Int64
        public var model: String
        public var selection: String
        public var status: String
        public var total: Int64
        public var done: Int64
        public var failed: Int64
        public var createdAt: String
    }

    /// Progress of one batch, or of the most recent ones when `id` is nil.
    public func batchProgress(id: Int64?, limit: Int = 20) throws -> [BatchProgress] {
        let result: PostgresResult
        let columns =
            "id, model, selection, status, total, done, failed, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS')"
        if let id {
            result = try connection.query(
                "select \(unsafeSQL: columns) from galaxy.batch_progress where id = \(id)")
        } else {
            result = try connection.query(
                "select \(unsafeSQL: columns) from galaxy.batch_progress order by id desc limit \(limit)")
        }
        return try result.map { row in
            BatchProgress(
                id: try row.decode(Int64.self, at: 0), model: try row.decode(String.self, at: 1),
                selection: try row.decode(String.self, at: 2), status: try row.decode(String.self, at: 3),
                total: try row.decode(Int64.self, at: 4), done: try row.decode(Int64.self, at: 5),
                failed: try row.decode(Int64.self, at: 6), createdAt: try row.decode(String.self, at: 7))
        }
    }

    /// `batch_summary`: images per high-level class.
    public func batchSummary(id: Int64) throws -> [(galaxyClass: String, images: Int64)] {
        try connection.query("select class, images from galaxy.batch_summary(\(id))").map { row in
            (try row.decode(String.self, at: 0), try row.decode(Int64.self, at: 1))
        }
    }
}
