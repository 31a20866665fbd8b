import ArgumentParser
import Foundation
import GalaxyPostgres
import GalaxyWeb

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke API tokens.",
        discussion: """
            Tokens authenticate HTTP API requests ('Authorization: Bearer gxy_...'). Only their SHA-256 \
            is stored; 'create' prints the secret once. The 'write' scope includes 'read'.
            """,
        subcommands: [Create.self, Revoke.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it once.")

        @Argument(help: "A name for the token (who or what uses it); unique among live tokens.")
        var name: String

        @Option(help: "read (GET endpoints) or write (uploads, batches, model activation, and reads).")
        var scope: String = "read"

        @Option(help: "PostgreSQL connection URL or key=value string (default: DATABASE_URL, then PG* variables).")
        var database: String?

        func run() async throws {
            guard let scope = TokenScope(rawValue: scope) else {
                throw ValidationError("--scope must be 'read' or 'write', not '\(self.scope)'.")
            }
            let (url, name) = (database, name)
            do {
                let secret = try await DedicatedThread.run(name: "galaxy.token") { () throws -> String in
                    try GalaxyStore(connection: try PostgresConnection(conninfo: url)).createToken(name: name, scope: scope)
                }
                print(secret)
                FileHandle.standardError.write(
                    Data("created \(scope.rawValue) token '\(name)'; it is shown only now: keep it secret\n".utf8))
            } catch let error as PostgresError where error.sqlState == PostgresError.Code.uniqueViolation {
                throw ValidationError("A live token named '\(name)' exists already: revoke it first or choose another name.")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke the live token with this name.")

        @Argument(help: "The token's name.")
        var name: String

        @Option(help: "PostgreSQL connection URL or key=value string (default: DATABASE_URL, then PG* variables).")
        var database: String?

        func run() async throws {
            let (url, name) = (database, name)
            let revoked = try await DedicatedThread.run(name: "galaxy.token") { () throws -> Bool in
                try GalaxyStore(connection: try PostgresConnection(conninfo: url)).revokeToken(name: name)
            }
            guard revoked else { throw ValidationError("No live token is named '\(name)'; 'galaxy token list' shows them.") }
            print("revoked token '\(name)' (servers forget it within 5 seconds)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (names and scopes, never secrets).")

        @Option(help: "PostgreSQL connection URL or key=value string (default: DATABASE_URL, then PG* variables).")
        var database: String?

        func run() async throws {
            let url = database
            let tokens = try await DedicatedThread.run(name: "galaxy.token") { () throws -> [TokenRow] in
                try GalaxyStore(connection: try PostgresConnection(conninfo: url)).tokens()
            }
            let format = ISO8601DateFormatter()
            for t in tokens {
                let state = t.revokedAt.map { "revoked \(format.string(from: $0))" } ?? "live"
                print("\(t.name)\t\(t.scope)\tcreated \(format.string(from: t.createdAt))\t\(state)")
            }
        }
    }
}
