import Foundation
import GalaxyTraining

/// Labelled images from a data set folder (`--data DIR`) or the database (`--from-db`), optionally
/// only those the id hash holds out: what `galaxy evaluate` measures and `galaxy model add
/// --precision` checks on.
struct LabelledImageSelection {
    /// Every labelled image read.
    let loaded: [LabeledImage]
    /// The ones kept (all, or the held-out part).
    let images: [LabeledImage]
    /// Where they came from, for messages: `--data DIR` or `galaxy.images (--from-db)`.
    let source: String

    /// - Parameters:
    ///   - directory: the data set folder, or nil for the labelled rows of `galaxy.images`.
    ///   - flags: the option names to quote in `source` (`--data`, `--from-db`).
    init(
        directory: String?, labelColumn: String?, database: String?, heldOutFraction: Double?, applicationName: String,
        flags: (data: String, database: String) = ("--data", "--from-db")
    ) throws {
        source = directory.map { "\(flags.data) \($0)" } ?? "galaxy.images (\(flags.database))"
        let all =
            try directory.map {
                try TrainingData.loadDirectory(URL(fileURLWithPath: $0), options: CatalogOptions(labelColumn: labelColumn ?? "label"))
            } ?? TrainingDatabase.loadLabeledImages(url: database, applicationName: applicationName)
        loaded = all
        images = heldOutFraction.map { f in all.filter { HashSplit.isHeldOut(id: $0.id, fraction: f) } } ?? all
    }
}
