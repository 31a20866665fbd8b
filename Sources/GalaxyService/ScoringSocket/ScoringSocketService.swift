import Foundation
import GalaxyPostgres
import Logging
import ServiceLifecycle

/// The scoring socket as a service of the process's `ServiceGroup`, between the daemon and the
/// HTTP server: a graceful shutdown stops accepting, answers the requests already received, and
/// removes the socket file.
public struct ScoringSocketService: Service {
    public let listener: ScoringSocketListener
    public let scorer: SocketScorer

    /// Opens the socket now, so that a path already served fails `galaxy serve` at start.
    public init(config: ScoringSocketConfig, scorer: SocketScorer, logger: Logger) throws {
        self.scorer = scorer
        self.listener = try ScoringSocketListener(config: config, scorer: scorer, logger: logger)
    }

    public func run() async throws {
        let listener = self.listener
        let scorer = self.scorer
        let scoring = Thread { scorer.run() }
        scoring.name = "galaxy.scoring-socket.scorer"
        scoring.stackSize = 8 << 20
        scoring.start()
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                _ = try? await DedicatedThread.run(name: "galaxy.scoring-socket.accept") { listener.serve() }
            } onCancel: {
                Thread.detachNewThread { listener.shutDown() }
            }
        } onGracefulShutdown: {
            // shutDown waits for connections that are answering: off the caller's thread.
            Thread.detachNewThread { listener.shutDown() }
        }
        listener.shutDown()
        scorer.stop()
        scorer.waitUntilFinished()
    }
}
