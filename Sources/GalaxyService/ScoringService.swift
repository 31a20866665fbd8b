import Foundation
import GalaxyPostgres
import ServiceLifecycle

/// The scoring daemon as a service of the process's `ServiceGroup`: it runs on a dedicated thread
/// (libpq and the engine block), and a graceful shutdown finishes the batch in hand, commits it,
/// gives the leases back and marks the daemon stopped before `run()` returns.
public struct ScoringService: Service {
    public let daemon: ScoringDaemon

    public init(daemon: ScoringDaemon) {
        self.daemon = daemon
    }

    /// - Throws: the daemon's `DaemonFatalError` (missing schema, refused role).
    public func run() async throws {
        let daemon = self.daemon
        try await withGracefulShutdownHandler {
            // Cancelled (a second signal, another service failing): stop the same way, sooner.
            try await withTaskCancellationHandler {
                try await DedicatedThread.run(name: "galaxy.daemon", stackSize: 8 << 20) { try daemon.run() }
            } onCancel: {
                daemon.requestShutdown()
            }
        } onGracefulShutdown: {
            daemon.requestShutdown()
        }
    }
}
