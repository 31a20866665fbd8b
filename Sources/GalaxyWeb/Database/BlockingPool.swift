import Foundation

/// Dedicated OS threads, each owning one resource (a database connection), that run blocking work
/// for async callers. Blocking libpq calls never occupy NIO's event loops or Swift's cooperative
/// threads; each thread keeps its connection, so there is no checkout and no sharing.
final class BlockingPool<Resource>: @unchecked Sendable {
    private typealias Job = (inout Resource?) -> Void

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var jobsHead = 0
    private var stopping = false
    private var running = 0
    private let makeResource: @Sendable () throws -> Resource

    /// Starts `threads` threads named `name`; each makes its resource on first use (and again after
    /// a job reports it broken).
    init(threads: Int, name: String, makeResource: @escaping @Sendable () throws -> Resource) {
        self.makeResource = makeResource
        for i in 0..<max(1, threads) {
            let thread = Thread { [self] in work() }
            thread.name = "\(name)-\(i)"
            thread.stackSize = 1 << 20
            running += 1
            thread.start()
        }
    }

    /// Runs `body` on a pool thread with that thread's resource and returns its result.
    /// When `body` throws an error for which `isBroken` is true, the resource is dropped and made
    /// anew for the next job.
    func run<T: Sendable>(
        isBroken: @escaping @Sendable (any Error) -> Bool = { _ in false },
        _ body: @escaping @Sendable (Resource) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job: Job = { [makeResource] resource in
                do {
                    if resource == nil { resource = try makeResource() }
                    continuation.resume(returning: try body(resource!))
                } catch {
                    if isBroken(error) { resource = nil }
                    continuation.resume(throwing: error)
                }
            }
            condition.lock()
            if stopping {
                condition.unlock()
                continuation.resume(throwing: CancellationError())
                return
            }
            jobs.append(job)
            condition.signal()
            condition.unlock()
        }
    }

    /// Lets queued jobs finish, then stops the threads and drops their resources; waits for them.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    private func work() {
        var resource: Resource? = nil
        while true {
            condition.lock()
            while jobsHead == jobs.count && !stopping { condition.wait() }
            if jobsHead == jobs.count {
                running -= 1
                condition.broadcast()
                condition.unlock()
                resource = nil
                return
            }
            let job = jobs[jobsHead]
            jobsHead += 1
            if jobsHead > 1024 && jobsHead * 2 > jobs.count {
                jobs.removeFirst(jobsHead)
                jobsHead = 0
            }
            condition.unlock()
            job(&resource)
        }
    }
}
