import ArgumentParser

struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch", abstract: "Start, watch and cancel batch scoring jobs.")

    func run() async throws {
        throw ValidationError("'galaxy batch' is not available in this build yet.")
    }
}
