import Foundation

/// Runs blocking work (libpq calls) on a new OS thread and awaits its result, so async code never
/// parks a thread of Swift's cooperative pool on network I/O.
public enum DedicatedThread {
    /// Runs `body` on a fresh thread and returns its result.
    /// - Parameter stackSize: the thread's stack in bytes; nil keeps Foundation's default.
    public static func run<T: Sendable>(
        name: String = "galaxy.postgres", stackSize: Int? = nil, _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.name = name
            if let stackSize { thread.stackSize = stackSize }
            thread.start()
        }
    }
}
