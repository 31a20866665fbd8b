import Testing

@testable import GalaxyEngine

extension EngineKernelPath {
    /// Runs `body` once on each path this CPU supports, forced in turn on the calling thread, then
    /// puts the thread's own path back.
    static func forEachSupported(_ body: (String) throws -> Void) rethrows {
        let previous = current
        defer { use(previous) }
        for path in supported {
            #expect(use(path))
            try body(path)
        }
    }

    /// Runs `body` on `path`, forced on the calling thread, then puts the thread's own path back.
    static func on<T>(_ path: String, _ body: () throws -> T) rethrows -> T {
        let previous = current
        defer { use(previous) }
        #expect(use(path))
        return try body()
    }
}
