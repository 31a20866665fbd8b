/// Why an ingest could not run (bad files never stop it: they are reported and skipped).
public enum IngestError: Error, CustomStringConvertible, Sendable {
    case notADirectory(String)
    case unreadableCatalog(String, String)
    case schemaMissing(String)

    public var description: String {
        switch self {
        case .notADirectory(let path):
            return "\(path) is not a folder: give the folder that holds the JPEGs (or an images/ folder and catalog.csv)."
        case .unreadableCatalog(let path, let why):
            return "cannot use the catalog \(path): \(why)."
        case .schemaMissing(let target):
            return "the database \(target) has no galaxy.images table: run 'galaxy migrate' against it first."
        }
    }
}
