import ArgumentParser

struct WebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web", abstract: "Serve the HTTP API and the upload page.")

    func run() async throws {
        throw ValidationError("'galaxy web' is not available in this build yet.")
    }
}
