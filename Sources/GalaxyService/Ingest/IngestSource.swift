import Foundation
import GalaxyCore

/// One image file to ingest, with what the catalog says about it.
public struct IngestFile: Sendable, Hashable {
    /// Where the file is.
    public var path: String
    /// The name stored in `galaxy.images.file_name` (the file's base name, e.g. `100008.jpg`).
    public var name: String
    /// The SDSS id from the catalog, when listed.
    public var specobjid: Int64?
    /// The known label from the catalog, when listed.
    public var label: String?
}

/// The files of an ingest folder: `DIR/images/*.jpg` and `DIR/*.jpg` (`.jpeg` too, any case),
/// joined with a catalog CSV (`id,specobjid,label`; an image `<id>.jpg` matches catalog row `id`).
/// Labels are stored as written (trimmed), once they parse under the ingest's vocabulary.
public struct IngestSource: Sendable {
    /// Files to ingest, sorted by name; a name present in both folders is taken once.
    public var files: [IngestFile]
    /// Catalog rows read.
    public var catalogRows: Int
    /// Catalog ids without an image file.
    public var catalogIdsWithoutFile: Int

    /// Lists `directory` and reads the catalog.
    /// - Parameters:
    ///   - catalog: a catalog CSV; nil uses `DIR/catalog.csv` when it exists.
    ///   - vocabulary: what a catalog label may be (a label, a class or a set `Sa|Sb`).
    /// - Throws: `IngestError` when the folder or the catalog cannot be read, the catalog has no
    ///   `id` column, or a row is invalid (bad CSV, no id, a specobjid that is not an integer, a label
    ///   outside `vocabulary`); a bad row stops the scan, so nothing is loaded from a bad catalog.
    public static func scan(
        directory: String, catalog: String? = nil, vocabulary: LabelVocabulary = .standard
    ) throws -> IngestSource {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw IngestError.notADirectory(directory)
        }
        var byName: [String: String] = [:]
        for folder in [directory, (directory as NSString).appendingPathComponent("images")] {
            guard let names = try? fm.contentsOfDirectory(atPath: folder) else { continue }
            for name in names where Self.isJPEGName(name) && byName[name] == nil {
                byName[name] = (folder as NSString).appendingPathComponent(name)
            }
        }
        let catalogPath = catalog ?? {
            let path = (directory as NSString).appendingPathComponent("catalog.csv")
            return fm.fileExists(atPath: path) ? path : nil
        }()
        var entries: [String: (specobjid: Int64?, label: String?)] = [:]
        if let catalogPath { entries = try readCatalog(catalogPath, vocabulary: vocabulary) }
        let files = byName.keys.sorted().map { name -> IngestFile in
            let id = (name as NSString).deletingPathExtension
            let entry = entries[id]
            return IngestFile(path: byName[name]!, name: name, specobjid: entry?.specobjid ?? nil, label: entry?.label ?? nil)
        }
        let stems = Set(byName.keys.map { ($0 as NSString).deletingPathExtension })
        return IngestSource(
            files: files, catalogRows: entries.count,
            catalogIdsWithoutFile: entries.keys.filter { !stems.contains($0) }.count)
    }

    static func isJPEGName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return (lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg")) && !name.hasPrefix(".")
    }

    /// Reads `id,specobjid,label` (RFC 4180 CSV; columns found by header name, any case; extra
    /// columns ignored). Every label must parse under `vocabulary`: the first that does not stops
    /// the ingest before anything is loaded, naming its line.
    static func readCatalog(_ path: String, vocabulary: LabelVocabulary) throws(IngestError) -> [String: (
        specobjid: Int64?, label: String?
    )] {
        let table: CSVTable
        do { table = try CSVReader.read(contentsOfFile: path) } catch {
            if let line = error.line { throw .badCatalogRow(path, line: line, error.reason) }
            throw .unreadableCatalog(path, error.reason)
        }
        guard let idColumn = table.column("id") else {
            throw .unreadableCatalog(path, "no 'id' column in the header (expected id,specobjid,label)")
        }
        let specColumn = table.column("specobjid")
        let labelColumn = table.column("label")
        let parser = TargetParser(vocabulary: vocabulary)
        var entries: [String: (specobjid: Int64?, label: String?)] = [:]
        for record in table.records {
            func value(_ column: Int?) -> String {
                column.map { record.fields[$0].trimmingCharacters(in: .whitespaces) } ?? ""
            }
            let id = value(idColumn)
            guard !id.isEmpty else { throw .badCatalogRow(path, line: record.line, "the row has no id") }
            var specobjid: Int64?
            let specText = value(specColumn)
            if !specText.isEmpty {
                guard let number = Int64(specText) else {
                    throw .badCatalogRow(path, line: record.line, "specobjid '\(specText)' is not an integer")
                }
                specobjid = number
            }
            let label = value(labelColumn)
            do { _ = try parser.parse(label) } catch {
                throw .badCatalogRow(path, line: record.line, error.description)
            }
            entries[id] = (specobjid, label.isEmpty ? nil : label)
        }
        return entries
    }
}
