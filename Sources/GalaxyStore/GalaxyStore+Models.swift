import Foundation
import GalaxyPostgres

/// A model after the engine loaded it: what `model_validated` records.
public struct ValidatedModel: Sendable, Hashable {
    /// The low-level labels, in output order.
    public var labels: [String]
    /// The metadata read from the ONNX, as a JSON object (labels, classes, output, preprocessing).
    public var metadataJSON: String
    public init(labels: [String], metadataJSON: String) {
        self.labels = labels
        self.metadataJSON = metadataJSON
    }
}

/// One model of the registry, as `galaxy.model_list` shows it.
public struct ModelRow: Sendable, Hashable {
    public var id: Int64
    public var name: String
    /// Hex.
    public var sha256: String
    /// `pending`, `ready` or `rejected`.
    public var status: String
    public var active: Bool
    public var error: String?
    public var labels: [String]?
    public var metadataJSON: String
    public var createdAt: Date
    public var validatedAt: Date?
    public var activatedAt: Date?
    /// Predictions written with this model.
    public var predictions: Int64
}

/// What `addModel` did.
public struct AddedModel: Sendable, Hashable {
    public var id: Int64
    /// Hex.
    public var sha256: String
    /// The rescoring batch when the model was activated.
    public var rescoreBatch: Int64?
}

/// The model registry as the daemon needs it.
public struct RegistrySnapshot: Sendable, Hashable {
    public var activeModelID: Int64?
    public var pendingModelIDs: [Int64]
    public var knownModelIDs: Set<Int64>
    public init(activeModelID: Int64?, pendingModelIDs: [Int64], knownModelIDs: Set<Int64>) {
        self.activeModelID = activeModelID
        self.pendingModelIDs = pendingModelIDs
        self.knownModelIDs = knownModelIDs
    }
}

/// A model row: its bytes and identity.
public struct StoredModel: Sendable, Hashable {
    public var id: Int64
    public var name: String
    public var sha256: String
    public var onnx: [UInt8]
    public init(id: Int64, name: String, sha256: String, onnx: [UInt8]) {
        self.id = id
        self.name = name
        self.sha256 = sha256
        self.onnx = onnx
    }
}

extension GalaxyStore {
    /// Adds a model already validated by the engine: `add_model` then `model_validated` in one
    /// transaction, so the registry never holds a half-added model; with `activate`, the
    /// validation activates it and queues the rescoring batch.
    /// - Throws: `PostgresError` with the SQL interface's message and hint (name taken, ...).
    public func addModel(name: String, onnx: [UInt8], validated: ValidatedModel, activate: Bool) throws -> AddedModel {
        try connection.transaction { c in
            let store = GalaxyStore(connection: c)
            let id = try c.query("select galaxy.add_model(\(name), \(PostgresBytea(onnx)), \(activate))")
                .scalar(Int64.self)
            try store.recordValidation(modelID: id, validated)
            let row = try c.query(
                """
                select m.sha256, (select max(b.id) from galaxy.batches b where b.model_id = m.id)
                from galaxy.model_list m where m.id = \(id)
                """)
            let sha = try row.first?.decode(String.self, at: 0) ?? ""
            let batch = activate ? try row.first?.decode(Int64?.self, at: 1) : nil
            return AddedModel(id: id, sha256: sha, rescoreBatch: batch)
        }
    }

    /// `model_validated`: the engine loaded the pending model; it becomes ready (and active if it
    /// was added with `activate`).
    public func recordValidation(modelID: Int64, _ validated: ValidatedModel) throws {
        _ = try connection.query(
            "select galaxy.model_validated(\(modelID), \(PostgresJSONB(validated.metadataJSON)), \(validated.labels))")
    }

    /// `model_rejected`: the engine refused the pending model; the active one stays.
    public func recordRejection(modelID: Int64, error: String) throws {
        _ = try connection.query("select galaxy.model_rejected(\(modelID), \(error))")
    }

    /// Every model, oldest first.
    public func models() throws -> [ModelRow] {
        try connection.query(
            """
            select m.id, m.name, m.sha256, m.status, m.active, m.error, m.labels, m.metadata::text,
                   m.created_at, m.validated_at, m.activated_at,
                   (select count(*) from galaxy.predictions p where p.model_id = m.id)
            from galaxy.model_list m order by m.id
            """
        ).map { row in
            ModelRow(
                id: try row.decode(Int64.self, at: 0), name: try row.decode(String.self, at: 1),
                sha256: try row.decode(String.self, at: 2), status: try row.decode(String.self, at: 3),
                active: try row.decode(Bool.self, at: 4), error: try row.decode(String?.self, at: 5),
                labels: try row.decode([String]?.self, at: 6), metadataJSON: try row.decode(String.self, at: 7),
                createdAt: try row.decode(Date.self, at: 8), validatedAt: try row.decode(Date?.self, at: 9),
                activatedAt: try row.decode(Date?.self, at: 10), predictions: try row.decode(Int64.self, at: 11))
        }
    }

    /// The active model's name, nil when none is active.
    public func activeModelName() throws -> String? {
        try connection.query("select name from galaxy.models where active").first?.decode(String.self, at: 0)
    }

    /// `activate_model`: returns the rescoring batch id, if one was queued.
    public func activateModel(name: String, rescore: Bool) throws -> Int64? {
        try connection.query("select galaxy.activate_model(\(name), \(rescore))").first?.decode(Int64?.self, at: 0) ?? nil
    }

    /// `activate_model_id`: the same by id; returns the rescoring batch id, if one was queued.
    public func activateModel(id: Int64, rescore: Bool) throws -> Int64? {
        try connection.query("select galaxy.activate_model_id(\(id)::bigint, \(rescore)::boolean)").first?
            .decode(Int64?.self, at: 0) ?? nil
    }

    /// `remove_model`.
    public func removeModel(name: String) throws {
        _ = try connection.query("select galaxy.remove_model(\(name))")
    }
}
