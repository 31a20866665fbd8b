import GalaxyPostgres

/// The daemon protocol of docs/architecture.md, one call each.
extension GalaxyStore {
    /// `daemon_register`: upserts the daemon's row.
    public func registerDaemon(name: String, host: String, pid: Int, version: String) throws {
        _ = try connection.query("select galaxy.daemon_register(\(name), \(host), \(pid), \(version))")
    }

    /// `daemon_heartbeat`.
    public func heartbeat(daemon: String) throws {
        _ = try connection.query("select galaxy.daemon_heartbeat(\(daemon))")
    }

    /// `release_jobs`: gives back every lease this daemon holds, with its attempt.
    public func releaseJobs(daemon: String) throws {
        _ = try connection.query("select galaxy.release_jobs(\(daemon))")
    }

    /// `daemon_stopped`.
    public func markDaemonStopped(_ daemon: String) throws {
        _ = try connection.query("select galaxy.daemon_stopped(\(daemon))")
    }

    /// `claim_jobs`.
    public func claimJobs(daemon: String, maxJobs: Int, leaseSeconds: Double) throws -> [ClaimedJob] {
        try connection.query(
            "select job_id, image_id, model_id, attempt, jpeg from galaxy.claim_jobs(\(daemon), \(maxJobs), \(leaseSeconds))"
        ).map { row in
            ClaimedJob(
                jobID: try row.decode(Int64.self, at: 0), imageID: try row.decode(Int64.self, at: 1),
                modelID: try row.decode(Int64.self, at: 2), attempt: Int(try row.decode(Int32.self, at: 3)),
                jpeg: try row.decode([UInt8].self, at: 4))
        }
    }

    /// `complete_jobs` (once per model, with that model's preprocessing) and `fail_jobs` (with
    /// each failure's code and retry decision), all in one transaction.
    public func commit(daemon: String, batch: BatchResult, preprocessing: [Int64: String]) throws -> CommitReceipt {
        try connection.transaction { connection in
            var completed: [Int64] = []
            let byModel = Dictionary(grouping: batch.completions, by: \.modelID)
            for modelID in byModel.keys.sorted() {
                let group = byModel[modelID]!
                let ids = group.map(\.jobID)
                let labels = group.map(\.score.label)
                let classes = group.map(\.score.galaxyClass)
                let probabilities = group.map { PostgresJSONB(JSONText.object($0.score.probabilities)) }
                let latencies = group.map(\.score.latencyMilliseconds)
                let parameters = PostgresJSONB(preprocessing[modelID] ?? "{}")
                let result = try connection.query(
                    """
                    select galaxy.complete_jobs(\(daemon), \(ids), \(labels), \(classes), \(probabilities), \
                    \(latencies), \(parameters))
                    """)
                completed += try result.first.map { try $0.decode([Int64]?.self, at: 0) ?? [] } ?? []
            }
            var failedForGood: [Int64] = []
            if !batch.failures.isEmpty {
                let ids = batch.failures.map(\.jobID)
                let errors = batch.failures.map(\.error.message)
                let codes = batch.failures.map(\.error.code.rawValue)
                // fail_jobs reads "retry after infinitely long" as "fail now".
                let delays = batch.failures.map { $0.retryAfterSeconds ?? .infinity }
                let result = try connection.query(
                    "select galaxy.fail_jobs(\(daemon), \(ids), \(errors), \(codes), \(delays))")
                failedForGood = try result.first.map { try $0.decode([Int64]?.self, at: 0) ?? [] } ?? []
            }
            return CommitReceipt(completed: completed, failedForGood: failedForGood)
        }
    }

    /// `daemon_models`: the active model, the pending ones and every model id.
    public func daemonRegistry() throws -> RegistrySnapshot {
        var active: Int64?
        var pending: [Int64] = []
        var known: Set<Int64> = []
        for row in try connection.query("select model_id, status, active from galaxy.daemon_models()") {
            let id = try row.decode(Int64.self, at: 0)
            known.insert(id)
            if try row.decode(String.self, at: 1) == "pending" { pending.append(id) }
            if try row.decode(Bool.self, at: 2) { active = id }
        }
        return RegistrySnapshot(activeModelID: active, pendingModelIDs: pending, knownModelIDs: known)
    }

    /// A model's ONNX bytes, name and sha256 (hex) through `model_onnx`; nil when it is gone.
    public func daemonModel(id: Int64) throws -> StoredModel? {
        guard
            let row = try connection.query(
                "select name, encode(sha256, 'hex'), galaxy.model_onnx(model_id) from galaxy.daemon_models() where model_id = \(id)"
            ).first
        else { return nil }
        return StoredModel(
            id: id, name: try row.decode(String.self, at: 0), sha256: try row.decode(String.self, at: 1),
            onnx: try row.decode([UInt8].self, at: 2))
    }
}

extension GalaxyStore {
    /// Whether the database has the daemon protocol (`galaxy migrate` ran): the daemon checks
    /// before registering, since it never migrates.
    public func hasDaemonProtocol() throws -> Bool {
        try connection.query(
            """
            select to_regprocedure('galaxy.claim_jobs(text,integer,double precision)') is not null
               and to_regprocedure('galaxy.complete_jobs(text,bigint[],text[],text[],jsonb[],real[],jsonb)') is not null
               and to_regprocedure('galaxy.fail_jobs(text,bigint[],text[],text[],double precision[])') is not null
            """
        ).scalar(Bool.self)
    }
}
