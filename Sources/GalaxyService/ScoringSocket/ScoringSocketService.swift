import Foundation
import GalaxyCore
import GalaxyPostgres
import Logging
import ServiceLifecycle

/// The scoring sockets (Unix and/or TCP) as a service of the process's `ServiceGroup`, between the
/// daemon and the HTTP server, sharing one scorer: a graceful shutdown stops accepting, answers the
/// requests already received, and removes the socket file.
public struct ScoringSocketService: Service {
    public let listeners: [ScoringSocketListener]
    public let scorer: SocketScorer

    /// Opens the sockets now, so that an address already served fails `galaxy serve` at start.
    public init(configs: [ScoringSocketConfig], scorer: SocketScorer, logger: Logger) throws {
        self.scorer = scorer
        var listeners: [ScoringSocketListener] = []
        for config in configs {
            do {
                listeners.append(try ScoringSocketListener(config: config, scorer: scorer, logger: logger))
            } catch {
                for listener in listeners { listener.shutDown() }
                throw ScoringSocketError(description: "\(config.path): \(error)")
            }
        }
        self.listeners = listeners
    }

    public func run() async throws {
        let listeners = self.listeners
        let scorer = self.scorer
        startKeptThread(named: "galaxy.scoring-socket.scorer") { scorer.run() }
        let shutDownAll: @Sendable () -> Void = { for listener in listeners { listener.shutDown() } }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withTaskGroup(of: Void.self) { group in
                    for listener in listeners {
                        group.addTask {
                            _ = try? await DedicatedThread.run(name: "galaxy.scoring-socket.accept") { listener.serve() }
                        }
                    }
                }
            } onCancel: {
                Thread.detachNewThread(shutDownAll)
            }
        } onGracefulShutdown: {
            // shutDown waits for connections that are answering: off the caller's thread.
            Thread.detachNewThread(shutDownAll)
        }
        shutDownAll()
        scorer.stop()
        scorer.waitUntilFinished()
    }
}
