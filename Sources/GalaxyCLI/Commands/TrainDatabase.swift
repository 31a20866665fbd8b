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
        let connection = try PostgresConnection(conninfo: url, applicationName: applicationName)
        let rows = try connection.query(
            "select id, file_name, label, jpeg from galaxy.images where label is not null order by id")
        var images: [LabeledImage] = []
        images.reserveCapacity(rows.count)
        for row in rows {
            let rowID = try row.decode(Int64.self, at: 0)
            let fileName = try row.decode(String?.self, at: 1)
            let origin = "galaxy.images id \(rowID)"
            images.append(
                LabeledImage(
                    source: origin, origin: origin,
                    id: fileName.map { ($0 as NSString).deletingPathExtension } ?? String(rowID),
                    label: try row.decode(String.self, at: 2), jpeg: try row.decode([UInt8].self, at: 3)))
        }
        return images
    }

    /// Stores the model with `galaxy.add_model` and records the engine's validation with
    /// `galaxy.model_validated` in the same transaction; with `activate` it becomes the active model.
    /// - Returns: the model id.
    static func register(onnx: [UInt8], name: String, activate: Bool, url: String?) throws -> Int64 {
        // Load it as a daemon would before anything touches the database.
        let validated = try ModelValidation.validate(onnx: onnx)
        let connection = try PostgresConnection(conninfo: url, applicationName: "galaxy train")
        return try connection.transaction { c in
            let id = try c.query("select galaxy.add_model(\(name), \(onnx), \(activate))").scalar(Int64.self)
            _ = try c.query(
                "select galaxy.model_validated(\(id), \(validated.metadataJSON)::jsonb, \(validated.labels)::text[])")
            return id
        }
    }
}
