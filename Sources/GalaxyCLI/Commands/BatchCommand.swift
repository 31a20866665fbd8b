import ArgumentParser
import Foundation
import GalaxyCore
import GalaxyPostgres
import GalaxyService

struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch", abstract: "Start, watch and cancel batch scoring jobs.",
        subcommands: [Start.self, Status.self, Cancel.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a set of images for scoring below interactive priority.",
            discussion: """
                Examples:
                  galaxy batch start --unscored
                  galaxy batch start --all --model cnn-v2
                  galaxy batch start --query "select id from galaxy.images where created_at > now() - interval '1 day'"
                """)

        @Flag(help: "Every image.") var all = false
        @Flag(help: "Images without a prediction under the model (the default).") var unscored = false
        @Option(help: "An SQL query whose first column is image ids.") var query: String?
        @Option(help: "Model name (default: the active model).") var model: String?
        @Option(help: "Priority below interactive work (0-99, default 10).") var priority = 10
        @OptionGroup var connection: ModelCommand.Connection

        func validate() throws {
            let chosen = [all, unscored, query != nil].filter { $0 }.count
            guard chosen <= 1 else {
                throw ValidationError("Please choose one of --all, --unscored or --query.")
            }
            guard (0..<100).contains(priority) else {
                throw ValidationError("Please give a --priority from 0 to 99 (interactive work runs at 100).")
            }
        }

        func run() async throws {
            let (selection, model, priority) = (
                all ? "all" : (query ?? "unscored"), self.model, self.priority
            )
            let (id, progress) = try await connection.withStore { store in
                let id = try store.startBatch(selection: selection, model: model, priority: priority)
                return (id, try store.batches(id: id, limit: 1).first)
            }
            print("batch \(id) queued \(progress?.total ?? 0) images for model '\(progress?.modelName ?? "?")'")
            print("watch it with: galaxy batch status \(id) --watch")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show batch progress (rate and ETA with --watch).")
        @Argument(help: "A batch id (default: the most recent batches).") var id: Int64?
        @Flag(help: "Follow the batch until it finishes, with a progress bar.") var watch = false
        @Option(help: "Seconds between refreshes with --watch.") var interval = 1.0
        @OptionGroup var connection: ModelCommand.Connection

        func run() async throws {
            guard let id else {
                if watch { throw ValidationError("Please give a batch id to --watch.") }
                let rows = try await connection.withStore { try $0.batches() }
                if rows.isEmpty {
                    print("no batches yet: start one with 'galaxy batch start --unscored'")
                    return
                }
                print(
                    TextTable.render(
                        header: ["id", "model", "status", "done", "failed", "total", "started", "selection"],
                        rows: rows.map {
                            [
                                "\($0.id)", $0.modelName, $0.status, "\($0.done)", "\($0.failed)", "\($0.total)",
                                CLIDates.seconds($0.createdAt), String($0.selection.prefix(40)),
                            ]
                        }))
                return
            }
            guard var batch = try await connection.withStore({ try $0.batches(id: id, limit: 1) }).first else {
                throw ServiceCommandError(ServiceError.unknownBatch(id))
            }
            if watch && batch.status == "running" {
                let bar = ProgressBar(title: "batch \(id)", total: Int(batch.total))
                var seenDone = batch.done
                var seenFailed = batch.failed
                bar.advance(by: Int(seenDone + seenFailed), failed: Int(seenFailed))
                while batch.status == "running" {
                    try await Task.sleep(nanoseconds: UInt64(max(0.1, interval) * 1e9))
                    guard let next = try await connection.withStore({ try $0.batches(id: id, limit: 1) }).first
                    else { break }
                    batch = next
                    let newDone = batch.done - seenDone
                    let newFailed = batch.failed - seenFailed
                    if newDone + newFailed > 0 {
                        bar.advance(by: Int(newDone + newFailed), failed: Int(newFailed))
                    }
                    seenDone = batch.done
                    seenFailed = batch.failed
                }
                bar.finish()
            }
            print(
                "batch \(batch.id) (\(batch.modelName)): \(batch.status), \(batch.done) done, \(batch.failed) failed of \(batch.total)"
            )
            if batch.status != "running" {
                let summary = try await connection.withStore { store in
                    try store.batchSummary(id: id).map { "  \($0.galaxyClass): \($0.images)" }
                }
                for line in summary { print(line) }
                if batch.failed > 0 {
                    print(
                        "failed jobs and their errors: select * from galaxy.failed_jobs where batch_id = \(batch.id)"
                    )
                }
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a running batch: its queued jobs leave the queue, jobs being scored finish.")
        @Argument(help: "The batch id.") var id: Int64
        @OptionGroup var connection: ModelCommand.Connection

        func run() async throws {
            let id = self.id
            let removed = try await connection.withStore { try $0.cancelBatch(id: id) }
            print("batch \(id) cancelled; \(removed) queued jobs removed")
        }
    }
}
