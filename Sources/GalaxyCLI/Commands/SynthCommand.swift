import ArgumentParser

struct SynthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth", abstract: "Render a synthetic Galaxy Zoo-like data set with a catalog.")

    func run() async throws {
        throw ValidationError("'galaxy synth' is not available in this build yet.")
    }
}
