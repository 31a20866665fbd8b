import Foundation
import GalaxyPostgres
import Testing
@testable import GalaxyWeb

@Suite(.serialized) struct TokenTests {
    @Test func createdTokensAuthenticateUntilRevokedAndOnlyTheirHashIsStored() async throws {
        let db = try WebTestDatabase(prefix: "tokens")
        defer { db.drop() }
        let tokens = GalaxyStore(connection: db.admin)
        let secret = try tokens.createToken(name: "ci", scope: .write)
        #expect(APITokenSecret.isWellFormed(secret))
        let stored = try db.admin.query("select token_sha256 from galaxy.api_tokens where name = 'ci'").scalar([UInt8].self)
        #expect(stored.count == 32)
        #expect(try db.admin.query("select count(*) from galaxy.api_tokens where position(\(Array(secret.utf8))::bytea in token_sha256) > 0").scalar(Int64.self) == 0)

        let store = WebStore(database: db.conninfo, connections: 1, logger: .init(label: "test"))
        defer { store.shutdown() }
        #expect(try await store.token(secret: secret) == TokenIdentity(id: 1, name: "ci", scope: .write))
        #expect(throws: PostgresError.self) { try tokens.createToken(name: "ci", scope: .read) }

        #expect(try tokens.revokeToken(name: "ci"))
        #expect(try !tokens.revokeToken(name: "ci"))
        #expect(try await store.token(secret: secret) == nil)
        let listed = try tokens.tokens()
        #expect(listed.count == 1)
        #expect(listed[0].revokedAt != nil)
        // The name is free again once revoked.
        _ = try tokens.createToken(name: "ci", scope: .read)
    }
}
