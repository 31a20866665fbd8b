import Foundation

/// One migration file: versioned (`V0001__create_schema.sql`, applied once, immutable) or
/// repeatable (`R__functions.sql`, re-applied whenever its checksum changes).
public struct Migration: Sendable, Hashable {
    /// Versioned or repeatable.
    public enum Kind: Sendable, Hashable {
        /// Applied once, in version order; must never change afterwards.
        case versioned(Int)
        /// Re-applied (in name order, after the versioned ones) when its content changes.
        case repeatable
    }

    /// The file name, for example `V0001__schema.sql`.
    public let fileName: String
    /// Versioned or repeatable.
    public let kind: Kind
    /// The part after `__` without `.sql`, with underscores as spaces.
    public let description: String
    /// The SQL text.
    public let sql: String
    /// SHA-256 of the SQL text (line endings normalised to LF), 64 hex digits.
    public let checksum: String

    /// Parses the file name and computes the checksum.
    /// - Throws: `MigrationError.invalidFileName` for names that are neither `V<n>__<name>.sql`
    ///   nor `R__<name>.sql`.
    public init(fileName: String, sql: String) throws {
        guard fileName.hasSuffix(".sql"), let separator = fileName.range(of: "__") else {
            throw MigrationError.invalidFileName(fileName)
        }
        let prefix = fileName[..<separator.lowerBound]
        let name = fileName[separator.upperBound..<fileName.index(fileName.endIndex, offsetBy: -4)]
        guard !name.isEmpty else { throw MigrationError.invalidFileName(fileName) }
        if prefix == "R" {
            kind = .repeatable
        } else if prefix.first == "V", let version = Int(prefix.dropFirst()), version > 0 {
            kind = .versioned(version)
        } else {
            throw MigrationError.invalidFileName(fileName)
        }
        self.fileName = fileName
        self.description = name.replacingOccurrences(of: "_", with: " ")
        self.sql = sql
        self.checksum = SHA256.hex(Array(sql.replacingOccurrences(of: "\r\n", with: "\n").utf8))
    }

    /// The version of a versioned migration.
    public var version: Int? {
        if case .versioned(let v) = kind { return v }
        return nil
    }

    /// Sorts migrations as they are applied: versioned by version, then repeatable by name.
    /// - Throws: `MigrationError.duplicateVersion` when two files share a version.
    public static func ordered(_ migrations: [Migration]) throws -> [Migration] {
        let versioned = migrations.filter { $0.version != nil }.sorted { $0.version! < $1.version! }
        for (a, b) in zip(versioned, versioned.dropFirst()) where a.version == b.version {
            throw MigrationError.duplicateVersion(a.version!, [a.fileName, b.fileName])
        }
        let repeatable = migrations.filter { $0.version == nil }.sorted { $0.fileName < $1.fileName }
        return versioned + repeatable
    }

    /// Reads every `*.sql` file of `directory`.
    public static func load(directory: URL) throws -> [Migration] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        return try ordered(
            names.map { name in
                try Migration(fileName: name, sql: String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
            })
    }
}
