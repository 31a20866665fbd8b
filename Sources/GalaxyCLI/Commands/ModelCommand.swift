import ArgumentParser

struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Add, list, activate and remove models in the registry.")

    func run() async throws {
        throw ValidationError("'galaxy model' is not available in this build yet.")
    }
}
