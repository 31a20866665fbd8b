import ArgumentParser

struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train the galaxy classifier and export it as ONNX.")

    func run() async throws {
        throw ValidationError("'galaxy train' is not available in this build yet.")
    }
}
