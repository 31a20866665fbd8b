import ArgumentParser

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest", abstract: "Bulk-load JPEGs into galaxy.images.")

    func run() async throws {
        throw ValidationError("'galaxy ingest' is not available in this build yet.")
    }
}
