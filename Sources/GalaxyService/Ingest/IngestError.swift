/// Why an ingest could not run (bad files never stop it: they are reported and skipped).
public enum IngestError: Error, CustomStringConvertible, Sendable {
    case notADirectory(String)
    case unreadableCatalog(String, String)
    /// A catalog row that cannot be used: the whole catalog is refused before anything is loaded.
    case badCatalogRow(String, line: Int, String)
    case schemaMissing(String)

    public var description: String {
        switch self {
        case .notADirectory(let path):
            return "\(path) is not a folder: give the folder that holds the JPEGs (or an images/ folder and catalog.csv)."
        case .unreadableCatalog(let path, let why):
            return "cannot use the catalog \(path): \(why)."
        case .badCatalogRow(let path, let line, let why):
            return "cannot use the catalog \(path) line \(line): \(why). Nothing was loaded; fix that row and run again."
        case .schemaMissing(let target):
            return "the database \(target) has no galaxy.images table: run 'galaxy migrate' against it first."
        }
    }
}
