import Foundation
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
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let thread = Thread {
                        continuation.resume(with: Result { try daemon.run() })
                    }
                    thread.name = "galaxy.daemon"
                    thread.stackSize = 8 << 20
                    thread.start()
                }
            } onCancel: {
                daemon.requestShutdown()
            }
        } onGracefulShutdown: {
            daemon.requestShutdown()
        }
    }
}
