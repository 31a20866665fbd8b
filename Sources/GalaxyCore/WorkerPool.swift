import Foundation

/// Runs index ranges on dedicated OS threads, so blocking C calls and compute kernels never occupy
/// Swift's cooperative thread pool. The threads are started once and kept: a call borrows idle ones
/// and gives them back, so scoring a batch or a training step creates no thread.
public enum WorkerPool {
    /// The number of threads to use when the caller does not say: the machine's active cores,
    /// or `GALAXY_THREADS` when set.
    public static var defaultThreadCount: Int {
        if let text = ProcessInfo.processInfo.environment["GALAXY_THREADS"], let n = Int(text), n > 0 {
            return n
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Calls `body(worker, index)` for every index in `0..<count`, spread over `threads` threads
    /// (the calling thread is one of them). `worker` is in `0..<threads` and stable for one thread
    /// during the call, so callers can keep per-thread state (decoder handles, scratch buffers) in
    /// an array indexed by it. Returns when all calls finished.
    ///
    /// Safe to call from several threads at once and from inside `body`: the caller works through
    /// the indices itself, so a call finishes even when every kept thread is busy elsewhere.
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
        let job = PoolJob(count: count, workers: workers, body: body)
        KeptThreads.shared.offer(job, helpers: workers - 1)
        job.work(as: 0)
        KeptThreads.shared.withdraw(job)
        job.waitForHelpers()
    }

    /// How many threads the pool has started since the process began (they are never stopped).
    public static var threadsStarted: Int { KeptThreads.shared.started }
}

/// One `forEach` call: indices handed out one at a time, worker numbers to helpers as they join.
private final class PoolJob: @unchecked Sendable {
    let count: Int
    let workers: Int
    let body: @Sendable (Int, Int) -> Void
    private let condition = NSCondition()
    private var nextIndex = 0
    private var nextWorker = 1
    private var seatsTaken = 0
    private var seatsReleased = 0

    init(count: Int, workers: Int, body: @escaping @Sendable (Int, Int) -> Void) {
        self.count = count
        self.workers = workers
        self.body = body
    }

    /// Runs indices until none are left.
    func work(as worker: Int) {
        while let index = takeIndex() { body(worker, index) }
    }

    private func takeIndex() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        guard nextIndex < count else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }

    /// A kept thread took a seat of this job (called under the pool's lock, so `withdraw` cannot
    /// race with it).
    func seatTaken() {
        condition.lock()
        seatsTaken += 1
        condition.unlock()
    }

    /// A kept thread in a taken seat joins: it gets a worker number and works unless the work is
    /// done or every number is taken.
    func help() {
        condition.lock()
        guard nextIndex < count, nextWorker < workers else {
            condition.unlock()
            return
        }
        let worker = nextWorker
        nextWorker += 1
        condition.unlock()
        work(as: worker)
    }

    /// The thread in a taken seat is back in the pool.
    func seatReleased() {
        condition.lock()
        seatsReleased += 1
        if seatsReleased == seatsTaken { condition.broadcast() }
        condition.unlock()
    }

    /// Called by the caller once no index is left and the untaken seats are withdrawn: waits until
    /// every thread that took a seat is back in the pool, so the next call finds them idle.
    func waitForHelpers() {
        condition.lock()
        while seatsReleased < seatsTaken { condition.wait() }
        condition.unlock()
    }
}

/// The process's kept threads and the offers they take: each offer is one helper seat of a job.
private final class KeptThreads: @unchecked Sendable {
    static let shared = KeptThreads()

    private let condition = NSCondition()
    private var offers: [PoolJob] = []
    private var idle = 0
    private(set) var started = 0

    func offer(_ job: PoolJob, helpers: Int) {
        condition.lock()
        for _ in 0..<helpers { offers.append(job) }
        // Start threads only when too few are idle for the seats offered; they stay afterwards.
        let missing = offers.count - idle
        if missing > 0 {
            for _ in 0..<missing { startThread() }
        }
        condition.broadcast()
        condition.unlock()
    }

    /// Removes the seats of `job` no thread took (its caller finished the work alone).
    func withdraw(_ job: PoolJob) {
        condition.lock()
        offers.removeAll { $0 === job }
        condition.unlock()
    }

    private func startThread() {
        started += 1
        idle += 1
        startKeptThread(named: "galaxy.worker \(started)") { [self] in self.serve() }
    }

    private func serve() {
        while true {
            condition.lock()
            while offers.isEmpty { condition.wait() }
            let job = offers.removeFirst()
            job.seatTaken()
            idle -= 1
            condition.unlock()
            job.help()
            condition.lock()
            idle += 1
            condition.unlock()
            job.seatReleased()
        }
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
