import ArgumentParser
import GalaxyEngine

/// Benchmark programs (never timed tests). The scripts in scripts/bench-* run these and the
/// Python references in one run and print ratios.
@main
struct GalaxyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "galaxy-bench",
        abstract: "Measure the engine, preprocessing and training against their references.",
        subcommands: [EngineBench.self, PreprocessBench.self, TrainBench.self, AugmentBench.self])

    /// Benchmarks measure what `galaxy` runs, so they take the same OpenBLAS kernels.
    static func main() async {
        OpenBLASCoreChoice.restartWithBetterCoreIfNeeded()
        await main(nil)
    }
}
