import ArgumentParser

struct EngineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "engine", abstract: "Benchmark: engine.")

    func run() async throws {
        throw ValidationError("the engine benchmark is not available in this build yet.")
    }
}
