import ArgumentParser
import GalaxyEngine

@main
struct Galaxy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "galaxy",
        abstract: "Classify galaxy images where they live: in PostgreSQL.",
        subcommands: [
            ClassifyCommand.self,
            EvaluateCommand.self,
            PreprocessCommand.self,
            SynthCommand.self,
            TrainCommand.self,
            IngestCommand.self,
            MigrateCommand.self,
            ModelCommand.self,
            BatchCommand.self,
            ServeCommand.self,
            WebCommand.self,
            TokenCommand.self,
            DoctorCommand.self,
        ])

    /// Runs the command, after starting again with better OpenBLAS kernels when the library
    /// picked slow ones for this CPU (OpenBLASCoreChoice).
    static func main() async {
        OpenBLASCoreChoice.restartWithBetterCoreIfNeeded()
        await main(nil)
    }
}
