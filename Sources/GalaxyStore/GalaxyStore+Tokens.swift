import Foundation
import GalaxyPostgres

/// A token as listed: never its secret.
public struct TokenRow: Sendable, Hashable {
    public var name: String
    public var scope: String
    public var createdAt: Date
    public var revokedAt: Date?
}

extension GalaxyStore {
    /// Stores a new token's SHA-256 under `name` and returns the secret, which is shown once.
    /// - Throws: `PostgresError`; a live token with this name already exists (unique violation).
    public func createToken(name: String, scope: TokenScope) throws -> String {
        let secret = APITokenSecret.generate()
        try connection.query(
            """
            insert into galaxy.api_tokens (name, token_sha256, scope)
            values (\(name), sha256(\(PostgresBytea(Array(secret.utf8)))), \(scope.rawValue))
            """)
        return secret
    }

    /// Revokes the live token called `name`; returns false when there is none.
    public func revokeToken(name: String) throws -> Bool {
        try connection.execute(
            "update galaxy.api_tokens set revoked_at = now() where name = \(name) and revoked_at is null") > 0
    }

    /// Every token, newest first.
    public func tokens() throws -> [TokenRow] {
        try connection.query("select name, scope, created_at, revoked_at from galaxy.api_tokens order by id desc").map {
            row in
            TokenRow(
                name: try row.decode(String.self, at: 0), scope: try row.decode(String.self, at: 1),
                createdAt: try row.decode(Date.self, at: 2), revokedAt: try row.decode(Date?.self, at: 3))
        }
    }

    /// The live token whose secret this is, nil when none is.
    public func token(secret: String) throws -> TokenIdentity? {
        let rows = try connection.query(
            """
            select id, name, scope from galaxy.api_tokens
            where token_sha256 = sha256(\(PostgresBytea(Array(secret.utf8)))) and revoked_at is null
            """)
        guard let row = rows.first else { return nil }
        return TokenIdentity(
            id: try row.decode(Int64.self, at: 0), name: try row.decode(String.self, at: 1),
            scope: TokenScope(rawValue: try row.decode(String.self, at: 2)) ?? .read)
    }
}
