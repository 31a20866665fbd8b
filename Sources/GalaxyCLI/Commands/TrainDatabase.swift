import Foundation
import GalaxyPostgres
import GalaxyService
import GalaxyTraining

/// The database side of `galaxy train`: labelled images in, the trained model out.
enum TrainingDatabase {
    /// Every row of `galaxy.images` with a known label, in id order.
    ///
    /// The image's id is its file name without the extension (`100008.jpg` -> `100008`), which is
    /// the catalog id it was ingested under, so an image gets the same `HashSplit` fate whether it
    /// is read from its directory or from the database; rows without a file name use the row id.
    static func loadLabeledImages(url: String?, applicationName: String = "galaxy train") throws -> [LabeledImage] {
        let store = GalaxyStore(connection: try PostgresConnection(conninfo: url, applicationName: applicationName))
        return try store.labeledImages().map { row in
            let origin = "galaxy.images id \(row.id)"
            return LabeledImage(
                source: origin, origin: origin,
                id: row.fileName.map { ($0 as NSString).deletingPathExtension } ?? String(row.id),
                label: row.label, jpeg: row.jpeg)
        }
    }

    /// Stores the model, validated by the engine first, as `galaxy model add` does; with
    /// `activate` it becomes the active model.
    /// - Returns: the model id.
    static func register(onnx: [UInt8], name: String, activate: Bool, url: String?) throws -> Int64 {
        // Load it as a daemon would before anything touches the database.
        let validated = try ModelValidation.validate(onnx: onnx)
        let store = GalaxyStore(connection: try PostgresConnection(conninfo: url, applicationName: "galaxy train"))
        return try store.addModel(name: name, onnx: onnx, validated: validated, activate: activate).id
    }
}
