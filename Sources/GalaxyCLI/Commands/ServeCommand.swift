import ArgumentParser

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the scoring daemon.")

    func run() async throws {
        throw ValidationError("'galaxy serve' is not available in this build yet.")
    }
}
