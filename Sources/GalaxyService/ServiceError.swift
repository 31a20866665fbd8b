/// Errors of the scoring service and its commands, each saying what failed and what to do.
public enum ServiceError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The database lacks the galaxy schema or its daemon protocol functions.
    case schemaMissing(target: String)
    /// No model with this name in `galaxy.models`.
    case unknownModel(String)
    /// A model file could not be loaded by the engine.
    case invalidModel(file: String, reason: String)
    /// A model could not be read from disk.
    case unreadableFile(String, reason: String)
    /// No batch with this id.
    case unknownBatch(Int64)
    /// The server refused the daemon for a reason retrying cannot fix.
    case refused(target: String, reason: String)

    public var description: String {
        switch self {
        case .schemaMissing(let target):
            return
                "the database \(target) has no galaxy schema (or an older one without the daemon functions): "
                + "run 'galaxy migrate' against it first."
        case .unknownModel(let name):
            return "there is no model named '\(name)' in galaxy.models: 'galaxy model list' shows the names."
        case .invalidModel(let file, let reason):
            return
                "the model in \(file) cannot be used: \(reason). Nothing was added; fix or re-export the model."
        case .unreadableFile(let file, let reason):
            return "cannot read \(file): \(reason)."
        case .unknownBatch(let id):
            return "there is no batch \(id): 'galaxy batch status' lists the batches."
        case .refused(let target, let reason):
            return
                "the database \(target) refused the daemon: \(reason). Check the connection settings and that "
                + "the role is a member of galaxy_daemon (see docs/operations.md)."
        }
    }
}

extension ServiceError: DaemonFatalError {}
