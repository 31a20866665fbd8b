import Foundation
import GalaxyCore

extension TrainingData {
    /// Reads a data directory: its catalog (`catalog.csv`, RFC 4180 CSV with a header) and the
    /// JPEGs it lists, as `galaxy synth` and `scripts/download-galaxy-zoo` write them.
    ///
    /// Each row gives a label (`options.labelColumn`), vote fractions (`<prefix><label>` columns,
    /// an empty field counts as 0), or both; a row with neither is unlabelled and skipped. The image
    /// is the file the `file` column names, else `images/<id>.jpg`; the id is the `id` column, else
    /// the image file's name without its extension. Labels are read as text here and checked
    /// against a vocabulary later, by `LabeledImage.target(using:)`.
    /// - Throws: `TrainingError.catalog` naming the file and line (invalid CSV, missing columns, a
    ///   vote fraction that is not a number, a row without id or file), or `.image` naming a listed
    ///   image that cannot be read.
    public static func loadDirectory(_ directory: URL, options: CatalogOptions = .init())
        throws(TrainingError)
        -> [LabeledImage]
    {
        let path = directory.appendingPathComponent(options.catalogFile).path
        let table: CSVTable
        do { table = try CSVReader.read(contentsOfFile: path) } catch {
            let hint =
                error.line == nil ? "; pass a directory with a catalog such as `galaxy synth` writes" : ""
            throw .catalog(path: path, line: error.line, reason: error.reason + hint)
        }
        let columns = try CatalogColumns(table, options: options)
        var images: [LabeledImage] = []
        images.reserveCapacity(table.records.count)
        for record in table.records {
            guard let row = try columns.read(record, path: path) else { continue }  // unlabelled
            let url =
                row.file.hasPrefix("/")
                ? URL(fileURLWithPath: row.file) : directory.appendingPathComponent(row.file)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw .image(
                    path: url.path,
                    reason:
                        "listed on line \(record.line) of \(path) but cannot be read; add the file or remove the row"
                )
            }
            images.append(
                LabeledImage(
                    source: url.path, origin: "\(path) line \(record.line)", id: row.id, label: row.label,
                    probabilities: row.probabilities, jpeg: [UInt8](data)))
        }
        return images
    }
}

/// Where a catalog keeps each thing, found once from its header.
private struct CatalogColumns {
    struct Row {
        var id: String
        var label: String
        var probabilities: [String: Float]
        var file: String
    }

    let id: Int?
    let label: Int?
    let file: Int?
    /// Vote-fraction columns and the label each one is for (`p_Er` -> `Er`).
    let probabilities: [(column: Int, label: String, name: String)]

    init(_ table: CSVTable, options: CatalogOptions) throws(TrainingError) {
        id = table.column(options.idColumn)
        label = table.column(options.labelColumn)
        file = table.column(anyOf: options.fileColumns)
        let prefix = options.probabilityPrefix.lowercased()
        probabilities =
            prefix.isEmpty
            ? []
            : table.header.indices.compactMap { column -> (column: Int, label: String, name: String)? in
                let name = table.header[column].trimmingCharacters(in: .whitespaces)
                guard name.lowercased().hasPrefix(prefix), name.count > prefix.count else { return nil }
                return (column, String(name.dropFirst(prefix.count)), name)
            }
        let noFractions =
            probabilities.isEmpty && !prefix.isEmpty ? " and no \(options.probabilityPrefix)<label> columns" : ""
        let found = "found \(table.header.map { "'\($0)'" }.joined(separator: ", "))"
        if label == nil && (probabilities.isEmpty || options.labelColumn != CatalogOptions().labelColumn) {
            throw .catalog(
                path: table.path, line: table.headerLine,
                reason: "no '\(options.labelColumn)' column\(noFractions), \(found); "
                    + "name the label column with --label-column")
        }
        if id == nil && file == nil {
            throw .catalog(
                path: table.path, line: table.headerLine,
                reason:
                    "the header needs an '\(options.idColumn)' column or a file column (\(options.fileColumns.joined(separator: ", "))), \(found)"
            )
        }
    }

    /// The row's contents, or nil when it has neither a label nor vote fractions.
    func read(_ record: CSVRecord, path: String) throws(TrainingError) -> Row? {
        func value(_ column: Int?) -> String {
            column.map { record.fields[$0].trimmingCharacters(in: .whitespaces) } ?? ""
        }
        let label = value(self.label)
        var fractions: [String: Float] = [:]
        var anyGiven = false
        for (column, name, header) in probabilities {
            let text = value(column)
            if text.isEmpty {
                fractions[name] = 0
                continue
            }
            guard let number = Float(text), number.isFinite else {
                throw .catalog(
                    path: path, line: record.line,
                    reason:
                        "column '\(header)' holds '\(text)', which is not a number; write a vote fraction such as 0.25, or leave it empty for 0"
                )
            }
            fractions[name] = number
            anyGiven = true
        }
        if !anyGiven { fractions = [:] }
        if label.isEmpty && fractions.isEmpty { return nil }
        var id = value(self.id)
        var file = value(self.file)
        if file.isEmpty {
            guard !id.isEmpty else {
                throw .catalog(
                    path: path, line: record.line,
                    reason: "the row has neither an id nor a file name; give one")
            }
            file = "images/\(id).jpg"
        }
        if id.isEmpty { id = ((file as NSString).lastPathComponent as NSString).deletingPathExtension }
        return Row(id: id, label: label, probabilities: fractions, file: file)
    }
}
