/// Metadata keys of the service's log lines: messages stay constant, values go here.
public enum LogKey {
    public static let daemon = "daemon"
    public static let jobID = "job.id"
    public static let imageID = "image.id"
    public static let modelID = "model.id"
    public static let modelName = "model.name"
    public static let modelSHA256 = "model.sha256"
    public static let attempt = "job.attempt"
    public static let count = "count"
    public static let completed = "jobs.completed"
    public static let retried = "jobs.retried"
    public static let failed = "jobs.failed"
    public static let lostLease = "jobs.lost_lease"
    public static let seconds = "seconds"
    public static let error = "error"
    public static let address = "address"
    public static let batchID = "batch.id"
}
