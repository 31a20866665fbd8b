import ArgumentParser

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create and revoke API tokens.")

    func run() async throws {
        throw ValidationError("'galaxy token' is not available in this build yet.")
    }
}
