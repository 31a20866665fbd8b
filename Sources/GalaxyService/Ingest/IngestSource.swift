import Foundation

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
public struct IngestSource: Sendable {
    /// Files to ingest, sorted by name; a name present in both folders is taken once.
    public var files: [IngestFile]
    /// Catalog rows read.
    public var catalogRows: Int
    /// Catalog ids without an image file.
    public var catalogIdsWithoutFile: Int

    /// Lists `directory` and reads the catalog.
    /// - Parameter catalog: a catalog CSV; nil uses `DIR/catalog.csv` when it exists.
    /// - Throws: `IngestError` when the folder or the catalog cannot be read or the catalog has no `id` column.
    public static func scan(directory: String, catalog: String? = nil) throws -> IngestSource {
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
        if let catalogPath { entries = try readCatalog(catalogPath) }
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

    /// Reads `id,specobjid,label` (columns found by header name; extra columns ignored).
    static func readCatalog(_ path: String) throws -> [String: (specobjid: Int64?, label: String?)] {
        guard let data = FileManager.default.contents(atPath: path) else { throw IngestError.unreadableCatalog(path, "cannot read the file") }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).makeIterator()
        guard let header = lines.next() else { throw IngestError.unreadableCatalog(path, "the file is empty") }
        let columns = header.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
        }
        guard let idColumn = columns.firstIndex(of: "id") else {
            throw IngestError.unreadableCatalog(path, "no 'id' column in the header (expected id,specobjid,label)")
        }
        let specColumn = columns.firstIndex(of: "specobjid")
        let labelColumn = columns.firstIndex(of: "label")
        var entries: [String: (specobjid: Int64?, label: String?)] = [:]
        var lineNumber = 1
        while let line = lines.next() {
            lineNumber += 1
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            guard fields.count > idColumn, !fields[idColumn].isEmpty else {
                throw IngestError.unreadableCatalog(path, "line \(lineNumber) has no id")
            }
            var specobjid: Int64?
            if let c = specColumn, c < fields.count, !fields[c].isEmpty {
                guard let value = Int64(fields[c]) else {
                    throw IngestError.unreadableCatalog(path, "line \(lineNumber): specobjid '\(fields[c])' is not an integer")
                }
                specobjid = value
            }
            let label = labelColumn.flatMap { $0 < fields.count && !fields[$0].isEmpty ? fields[$0] : nil }
            entries[fields[idColumn]] = (specobjid, label)
        }
        return entries
    }
}
