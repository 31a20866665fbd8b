import GalaxyPostgres

/// Why migrating failed, with what to do about it.
public enum MigrationError: Error, CustomStringConvertible, Sendable {
    /// A file name that is neither `V<n>__<name>.sql` nor `R__<name>.sql`.
    case invalidFileName(String)
    /// Two versioned files with the same version.
    case duplicateVersion(Int, [String])
    /// Applied versioned files whose content changed since: (file, checksum in this build,
    /// checksum recorded when applied).
    case changedAfterApply([(file: String, expected: String, applied: String)])
    /// Versioned files recorded in the database that this build does not have.
    case unknownApplied([String])
    /// A pending versioned file older than one already applied.
    case outOfOrder(pending: String, latestApplied: String)
    /// The schema came from `CREATE EXTENSION galaxy`; the extension owns its upgrades.
    case extensionInstalled(version: String)
    /// A migration's SQL failed; nothing of this run was kept.
    case failed(file: String, line: Int?, PostgresError)

    public var description: String {
        switch self {
        case .invalidFileName(let name):
            return "migration file \(name) is not named V<version>__<name>.sql or R__<name>.sql; rename it."
        case .duplicateVersion(let version, let files):
            return "migration version \(version) appears twice (\(files.joined(separator: ", "))); give each file its own version."
        case .changedAfterApply(let changes):
            var text = "applied versioned migrations changed since they were applied; versioned files are immutable:"
            for change in changes {
                text += "\n  \(change.file): expected (this build) \(change.expected), applied \(change.applied)"
            }
            text += "\nRestore the files as they were when applied and put the change into a new V file."
            return text
        case .unknownApplied(let files):
            return "the database has migrations this build does not know (\(files.joined(separator: ", "))): "
                + "it was migrated by a newer galaxy. Use that version, or a build that includes these files."
        case .outOfOrder(let pending, let latest):
            return "migration \(pending) is older than the already applied \(latest); "
                + "give it a version above \(latest) so every database applies the files in the same order."
        case .extensionInstalled(let version):
            return "this database got its schema from CREATE EXTENSION galaxy (version \(version)); "
                + "the extension owns the schema there, so galaxy migrate leaves it alone. Upgrade it with "
                + "'make -C sql install' and then ALTER EXTENSION galaxy UPDATE; or use a database without the extension."
        case .failed(let file, let line, let error):
            let place = line.map { "\(file), line \($0)" } ?? file
            var copy = error
            copy.statement = nil
            return "migration \(place) failed; nothing was applied (one transaction): \(copy)"
        }
    }
}
