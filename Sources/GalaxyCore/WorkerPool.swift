import Foundation

/// Runs index ranges on dedicated OS threads, so blocking C calls and compute kernels never occupy
/// Swift's cooperative thread pool.
public enum WorkerPool {
    /// The number of threads to use when the caller does not say: the machine's active cores,
    /// or `GALAXY_THREADS` when set.
    public static var defaultThreadCount: Int {
        if let text = ProcessInfo.processInfo.environment["GALAXY_THREADS"], let n = Int(text), n > 0 {
            return n
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Calls `body(worker, index)` for every index in `0..<count`, spread over `threads` threads.
    /// `worker` is in `0..<threads` and stable for one thread, so callers can keep per-thread state
    /// (decoder handles, scratch buffers) in an array indexed by it. Returns when all calls finished.
    public static func forEach(
        _ count: Int, threads: Int = defaultThreadCount,
        _ body: @escaping @Sendable (_ worker: Int, _ index: Int) -> Void
    ) {
        guard count > 0 else { return }
        let workers = max(1, min(threads, count))
        if workers == 1 {
            for i in 0..<count { body(0, i) }
            return
        }
        let next = AtomicCounter()
        let group = DispatchGroup()
        for w in 0..<workers {
            group.enter()
            let thread = Thread {
                while true {
                    let i = next.increment()
                    if i >= count { break }
                    body(w, i)
                }
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
    }
}

/// A counter shared between worker threads.
public final class AtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    public init() {}

    /// Returns the current value and adds one.
    public func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        let v = value
        value += 1
        return v
    }
}
