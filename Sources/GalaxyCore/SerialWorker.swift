import Foundation

/// One kept thread that runs submitted work in order, for an owner that hands off work for its whole
/// life (the daemon's scoring of one batch while it claims the next) without a thread per piece.
/// The thread ends when the worker is released.
public final class SerialWorker: Sendable {
    private let queue = WorkQueue()

    public init(name: String) {
        startKeptThread(named: name) { [queue] in queue.serve() }
    }

    deinit { queue.stop() }

    /// Runs `body` after the work submitted before it; `wait()` on the result returns its value.
    public func submit<Value: Sendable>(_ body: @escaping @Sendable () -> Value) -> PendingWork<Value> {
        let pending = PendingWork<Value>()
        queue.add { pending.fulfil(body()) }
        return pending
    }
}

/// The value of work submitted to a `SerialWorker`.
public final class PendingWork<Value: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Value?

    fileprivate init() {}

    fileprivate func fulfil(_ result: Value) {
        condition.lock()
        value = result
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until the work ran and returns its value.
    public func wait() -> Value {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}

private final class WorkQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [@Sendable () -> Void] = []
    private var stopping = false

    func add(_ item: @escaping @Sendable () -> Void) {
        condition.lock()
        items.append(item)
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    /// The thread's loop: runs items in order; after `stop()`, finishes what was queued and returns.
    func serve() {
        while true {
            condition.lock()
            while items.isEmpty && !stopping { condition.wait() }
            if items.isEmpty {
                condition.unlock()
                return
            }
            let item = items.removeFirst()
            condition.unlock()
            item()
        }
    }
}
