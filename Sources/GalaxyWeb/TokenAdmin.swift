import Foundation
import GalaxyPostgres

/// Creating, listing and revoking API tokens (used by `galaxy token`). Blocking: call from a
/// dedicated thread.
public enum TokenAdmin {
    /// A token as listed: never its secret.
    public struct Listed: Sendable {
        public var name: String
        public var scope: String
        public var createdAt: Date
        public var revokedAt: Date?
    }

    /// Stores a new token's SHA-256 under `name` and returns the secret, which is shown once.
    /// - Throws: `PostgresError`; a live token with this name already exists (unique violation).
    public static func create(_ db: PostgresConnection, name: String, scope: TokenScope) throws -> String {
        let secret = APITokenSecret.generate()
        try db.query(
            """
            insert into galaxy.api_tokens (name, token_sha256, scope)
            values (\(name), sha256(\(PostgresBytea(Array(secret.utf8)))), \(scope.rawValue))
            """)
        return secret
    }

    /// Revokes the live token called `name`; returns false when there is none.
    public static func revoke(_ db: PostgresConnection, name: String) throws -> Bool {
        try db.execute(
            "update galaxy.api_tokens set revoked_at = now() where name = \(name) and revoked_at is null") > 0
    }

    /// Every token, newest first.
    public static func list(_ db: PostgresConnection) throws -> [Listed] {
        try db.query("select name, scope, created_at, revoked_at from galaxy.api_tokens order by id desc").map { row in
            Listed(
                name: try row.decode(String.self, at: 0), scope: try row.decode(String.self, at: 1),
                createdAt: try row.decode(Date.self, at: 2), revokedAt: try row.decode(Date?.self, at: 3))
        }
    }
}
