import ArgumentParser

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply the database migrations.")

    func run() async throws {
        throw ValidationError("'galaxy migrate' is not available in this build yet.")
    }
}
