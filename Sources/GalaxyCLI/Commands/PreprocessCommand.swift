import ArgumentParser

struct PreprocessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess", abstract: "Crop, rotate and resize JPEGs into PNGs the way the model sees them.")

    func run() async throws {
        throw ValidationError("'galaxy preprocess' is not available in this build yet.")
    }
}
