import ArgumentParser

struct ClassifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify", abstract: "Classify JPEG files with an ONNX model.")

    func run() async throws {
        throw ValidationError("'galaxy classify' is not available in this build yet.")
    }
}
