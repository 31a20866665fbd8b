import ArgumentParser
import Foundation
import GalaxyPostgres
import GalaxyService

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply the database migrations.",
        discussion: """
            Applies the versioned migrations (V*.sql) this binary carries that the database lacks, then
            re-applies repeatable ones (R__*.sql) whose content changed, in one transaction under an
            advisory lock: safe to run from many machines at once. The history is kept in
            galaxy_migrations.history. A versioned file that changed after it was applied is refused.
            A database whose schema came from CREATE EXTENSION galaxy is left alone (use ALTER EXTENSION).
            """)

    @Option(help: "PostgreSQL connection URL or key=value string (default: DATABASE_URL, then libpq's PG* variables).")
    var database: String?

    @Flag(help: "Show each migration's state without changing anything.")
    var status = false

    func run() async throws {
        let url = database
        let showStatus = status
        let output = try await DedicatedThread.run(name: "galaxy.migrate") { () throws -> String in
            let connection = try PostgresConnection(conninfo: url)
            let migrator = try Migrator()
            if showStatus {
                return Self.render(status: try migrator.status(connection), target: connection.target)
            }
            return Self.render(report: try migrator.migrate(connection), target: connection.target)
        }
        print(output, terminator: "")
    }

    static func render(report: MigrationReport, target: String) -> String {
        var text = ""
        if report.lockWaitSeconds >= 0.5 {
            text += String(format: "waited %.1f s for another migrator\n", report.lockWaitSeconds)
        }
        for item in report.applied {
            text += "\(item.reapplied ? "re-applied" : "applied") \(item.fileName) (\(item.milliseconds) ms)\n"
        }
        text += report.applied.isEmpty
            ? "\(target) is up to date (\(report.upToDate) migrations, nothing to apply)\n"
            : "\(target): \(report.applied.count) applied, \(report.upToDate) already up to date\n"
        if let native = report.nativeFunctions { text += native + "\n" }
        return text
    }

    static func render(status: [MigrationStatus], target: String) -> String {
        let formatter = ISO8601DateFormatter()
        let width = max(30, status.map(\.fileName.count).max() ?? 0)
        var text = "migrations of \(target):\n"
        for item in status {
            let name = item.fileName.padding(toLength: width, withPad: " ", startingAt: 0)
            let state = item.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
            text += "  \(name)  \(state)  \(item.appliedAt.map { formatter.string(from: $0) } ?? "")\n"
        }
        let pending = status.filter { $0.state == .pending || $0.state == .outdated }.count
        let blocked = status.filter { $0.state == .changed || $0.state == .unknown }.count
        if blocked > 0 {
            text += "\(blocked) migration(s) block migrating (changed after apply, or unknown to this build); 'galaxy migrate' explains\n"
        } else {
            text += pending == 0 ? "up to date\n" : "\(pending) to apply: run 'galaxy migrate'\n"
        }
        return text
    }
}
