import ArgumentParser

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
        ])
}
