import Foundation
import Logging
import ServiceLifecycle

/// Runs the long-lived parts of `galaxy serve` and `galaxy web` as one `ServiceGroup`. Services are
/// listed in dependency order: SIGTERM or SIGINT shuts them down from the last to the first, so the
/// HTTP server lets its requests in flight finish (an upload waiting for its prediction still gets
/// it) before the daemon finishes its batch and gives its leases back, and the metrics listener
/// answers until the end. Any service that ends or fails shuts the others down the same way.
public enum ServiceRunner {
    /// A service and what it is, for the error when it fails.
    public struct Part: Sendable {
        public var service: any Service
        public var name: String
        public init(service: any Service, name: String) {
            self.service = service
            self.name = name
        }
    }

    /// A failure of one part, naming it.
    public struct PartFailed: Error, CustomStringConvertible {
        public var name: String
        public var error: any Error
        public var description: String { "\(name): \(error)" }
    }

    /// Runs until every part ended; throws the first part's failure, after shutting the rest down.
    public static func run(_ parts: [Part], logger: Logger) async throws {
        let services = parts.map { part in
            ServiceGroupConfiguration.ServiceConfiguration(
                service: NamedService(inner: part.service, name: part.name),
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: part.name)
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Attaches the part's name to whatever it throws.
    private struct NamedService: Service {
        let inner: any Service
        let name: String

        func run() async throws {
            do {
                try await inner.run()
            } catch {
                throw PartFailed(name: name, error: error)
            }
        }
    }
}
