import Foundation

extension TrainingData {
    /// Loads every `--data` source in order and stamps each image with its source's index
    /// (`LabeledImage.dataSource`), so weights and per-source figures can find them later.
    /// - Parameters:
    ///   - options: how to read directory catalogs; a source's own label column overrides its
    ///     `labelColumn`.
    ///   - database: loads the database's labelled images (the database code lives with the command).
    /// - Throws: `TrainingError` from a catalog, an image or the database loader; `.noData` naming
    ///   a source that has no labelled images, since a source given on purpose should contribute.
    public static func load(
        _ sources: [DataSource], options: CatalogOptions = .init(),
        database: (DataSource) throws -> [LabeledImage]
    ) throws -> [LabeledImage] {
        var all: [LabeledImage] = []
        for (index, source) in sources.enumerated() {
            var images: [LabeledImage]
            switch source.location {
            case .directory(let path):
                images = try loadDirectory(
                    URL(fileURLWithPath: path), options: source.catalogOptions(options))
            case .database:
                images = try database(source)
            }
            guard !images.isEmpty else {
                throw TrainingError.noData(
                    "--data \(source.argument) has no labelled images; label some or leave it out")
            }
            for i in images.indices { images[i].dataSource = index }
            all += images
        }
        return all
    }
}
