import ArgumentParser

struct PreprocessBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "preprocess", abstract: "Benchmark: preprocess.")

    func run() async throws {
        throw ValidationError("the preprocess benchmark is not available in this build yet.")
    }
}
