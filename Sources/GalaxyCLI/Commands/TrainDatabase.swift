import Foundation
import GalaxyPostgres
import GalaxyService
import GalaxyTraining

/// The database side of `galaxy train`: labelled images in, the trained model out.
enum TrainingDatabase {
    /// Every row of `galaxy.images` with a known label, in id order. An image's catalog id (for
    /// `HashSplit`) is its ingested file name without the extension, as in the data set directory
    /// (`images/<id>.jpg`), or the row id when it has no file name.
    static func loadLabeledImages(url: String?, applicationName: String = "galaxy train") throws -> [LabeledImage] {
        let connection = try PostgresConnection(conninfo: url, applicationName: applicationName)
        let rows = try connection.query("select id, label, jpeg, file_name from galaxy.images where label is not null order by id")
        var images: [LabeledImage] = []
        images.reserveCapacity(rows.count)
        for row in rows {
            let id = try row.decode(Int64.self, at: 0)
            let fileName = try row.decode(String?.self, at: 3)
            let catalogID = fileName.map { ($0 as NSString).deletingPathExtension } ?? String(id)
            images.append(
                LabeledImage(
                    source: "galaxy.images id \(id)", id: catalogID, label: try row.decode(String.self, at: 1),
                    jpeg: try row.decode([UInt8].self, at: 2)))
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
