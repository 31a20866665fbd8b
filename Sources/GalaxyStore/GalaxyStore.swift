import GalaxyPostgres

/// The one typed API over the galaxy schema: models and their validation and activation,
/// batches, API tokens, images, predictions, the queue and the daemon protocol. The CLI, the web
/// routes and the scoring daemon all call it, so each operation has one implementation and its
/// SQL lives here only (the schema itself lives in Migrations/).
///
/// Blocking, like the connection under it: call it from a dedicated thread (a CLI command's, the
/// daemon's, or one of the web service's database threads).
public struct GalaxyStore: Sendable {
    public let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Where the connection points, for messages (`host:port/db`).
    public var target: String { connection.target }
}
