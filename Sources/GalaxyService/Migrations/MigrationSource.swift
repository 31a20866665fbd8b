/// The migration files compiled into this binary, so `galaxy migrate` needs no source tree.
///
/// `EmbeddedMigrations.files` is written by `scripts/generate-embedded-migrations` from the
/// top-level `Migrations/` folder; a test and `scripts/test` fail when the two differ.
public enum EmbeddedMigrations {
    /// The embedded files parsed and in application order.
    /// - Throws: `MigrationError` for a bad file name or a duplicate version.
    public static func all() throws -> [Migration] {
        try Migration.ordered(files.map { try Migration(fileName: $0.name, sql: $0.sql) })
    }
}
