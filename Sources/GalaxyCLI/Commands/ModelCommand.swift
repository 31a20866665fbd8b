import ArgumentParser
import Foundation
import GalaxyPostgres
import GalaxyService

struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Add, list, activate and remove models in the registry.",
        subcommands: [Add.self, Variant.self, List.self, Activate.self, Remove.self])

    /// The connection option shared by the registry and batch commands.
    struct Connection: ParsableArguments {
        @Option(
            name: .long,
            help: "libpq conninfo or postgresql:// URL (default: DATABASE_URL, then PG* variables).")
        var database: String?

        /// Connects and runs `body` on a dedicated thread (libpq blocks); errors become one clear line.
        func withStore<T: Sendable>(_ body: @escaping @Sendable (GalaxyStore) throws -> T) async throws
            -> T
        {
            let conninfo = database
            return try await ServiceCommandError.wrap {
                try await DedicatedThread.run(name: "galaxy.registry") {
                    let connection: PostgresConnection
                    do {
                        connection = try PostgresConnection(conninfo: conninfo, applicationName: "galaxy")
                    } catch {
                        throw ServiceCommandError(description: "cannot connect to PostgreSQL: \(error)")
                    }
                    return try body(GalaxyStore(connection: connection))
                }
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate an ONNX model with the engine and add it to galaxy.models.",
            discussion: """
                An invalid model is refused with the engine's error and nothing changes in the database. \
                With --precision bf16 the fp32 model in FILE and its bf16 variant first classify the \
                labelled images of --check-data (or --check-from-db); the variant is refused, and nothing \
                is added, when fewer than 99.5% of the high-level classes or 98% of the low-level labels \
                agree with fp32, or high-level accuracy drops by more than 0.3 points. Otherwise the \
                variant is stored under NAME with its report, and its predictions record bf16.
                """)

        @Argument(help: "A unique model name, for example cnn-v2.") var name: String
        @Argument(help: "The .onnx file.") var file: String
        @Flag(help: "Make it the active model and queue every image for rescoring.") var activate = false
        @OptionGroup var precision: PrecisionVariantOptions
        @OptionGroup var connection: Connection

        func validate() throws { try precision.validate() }

        func run() async throws {
            var onnx: [UInt8]
            do {
                onnx = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
            } catch {
                throw ServiceCommandError(
                    ServiceError.unreadableFile(file, reason: error.localizedDescription))
            }
            if precision.precision != .fp32 {
                onnx = try precision.checkedVariant(of: onnx, file: file, database: connection.database, tool: "model add")
            }
            let validated: ValidatedModel
            do {
                validated = try ModelValidation.validate(onnx: onnx)
            } catch {
                throw ServiceCommandError(ServiceError.invalidModel(file: file, reason: "\(error)"))
            }
            let (name, activate, bytes) = (self.name, self.activate, onnx)
            let added = try await connection.withStore { store in
                try store.addModel(name: name, onnx: bytes, validated: validated, activate: activate)
            }
            print(
                "added model '\(name)' (id \(added.id), sha256 \(added.sha256.prefix(12)), \(validated.labels.count) labels, "
                    + "\(precision.precision.rawValue))"
            )
            if activate {
                print(
                    "'\(name)' is active"
                        + (added.rescoreBatch.map {
                            "; rescoring every image as batch \($0) (galaxy batch status \($0) --watch)"
                        } ?? ""))
            } else {
                print("activate it with: galaxy model activate \(name)")
            }
        }
    }

    struct Variant: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the checked reduced-precision variant of an fp32 model to a file (for galaxy classify).",
            discussion: """
                Runs the accuracy check of 'galaxy model add --precision' (the fp32 model and its \
                variant on the labelled images of --check-data or --check-from-db) and writes the \
                variant, with its report, only when it passes; otherwise exits 1 with the figures.
                """)

        @Argument(help: "The fp32 .onnx file.") var file: String
        @Option(help: "Where to write the variant.") var out: String
        @OptionGroup var precision: PrecisionVariantOptions
        @Option(help: "PostgreSQL connection URL for --check-from-db (default: DATABASE_URL or libpq's PG* variables).")
        var database: String?

        func validate() throws {
            try precision.validate()
            if precision.precision == .fp32 { throw ValidationError("Please give '--precision bf16': an fp32 model needs no variant.") }
        }

        func run() throws {
            let onnx: [UInt8]
            do {
                onnx = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
            } catch {
                throw ServiceCommandError(ServiceError.unreadableFile(file, reason: error.localizedDescription))
            }
            let variant = try precision.checkedVariant(of: onnx, file: file, database: database, tool: "model variant")
            try Data(variant).write(to: URL(fileURLWithPath: out))
            print("wrote the \(precision.precision.rawValue) variant of \(file) to \(out)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the models in the registry.")
        @OptionGroup var connection: Connection

        func run() async throws {
            let models = try await connection.withStore { try $0.models() }
            if models.isEmpty {
                print("no models yet: add one with 'galaxy model add NAME FILE.onnx --activate'")
                return
            }
            let rows = models.map { (m: ModelRow) -> [String] in
                let created = CLIDates.minutes(m.createdAt)
                return [
                    m.active ? "*" : "", "\(m.id)", m.name, m.status, String(m.sha256.prefix(12)),
                    "\(m.labels?.count ?? 0)", created, m.error ?? "",
                ]
            }
            print(
                TextTable.render(
                    header: ["", "id", "name", "status", "sha256", "labels", "created", "error"], rows: rows))
        }
    }

    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a model the active one (atomically); by default queue every image for rescoring.")
        @Argument(help: "The model's name.") var name: String
        @Flag(name: .customLong("no-rescore"), help: "Do not rescore existing images.") var noRescore = false
        @OptionGroup var connection: Connection

        func run() async throws {
            let (name, rescore) = (self.name, !noRescore)
            let batch = try await connection.withStore { try $0.activateModel(name: name, rescore: rescore) }
            print("'\(name)' is the active model; running daemons switch without restarting")
            if let batch {
                print("rescoring every image as batch \(batch): galaxy batch status \(batch) --watch")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a model with its predictions and queued jobs (never the active one).")
        @Argument(help: "The model's name.") var name: String
        @OptionGroup var connection: Connection

        func run() async throws {
            let name = self.name
            try await connection.withStore { try $0.removeModel(name: name) }
            print("removed model '\(name)'")
        }
    }
}

/// A service or database error shown as one clear line, exit code 1.
struct ServiceCommandError: Error, CustomStringConvertible {
    var description: String
    init(_ error: any Error) { description = "\(error)" }
    init(description: String) { self.description = description }

    static func wrap<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ServiceCommandError {
            throw error
        } catch {
            throw ServiceCommandError(error)
        }
    }
}

/// Fixed-width columns for terminal tables.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map {
                $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0)
            }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
