import ArgumentParser

struct TrainBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Benchmark: train.")

    func run() async throws {
        throw ValidationError("the train benchmark is not available in this build yet.")
    }
}
