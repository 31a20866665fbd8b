import Foundation
import Testing

@testable import GalaxyCore

/// The kept worker threads: every index once, distinct worker numbers, no thread per call.
@Suite(.serialized) struct WorkerPoolTests {
    /// Per-worker and per-index records, safe across threads.
    final class Record: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var hits: [Int]
        private var threadsOfWorker: [Int: Set<String>] = [:]

        init(count: Int) { hits = [Int](repeating: 0, count: count) }

        func hit(_ index: Int, worker: Int) {
            let me = "\(Unmanaged.passUnretained(Thread.current).toOpaque())"
            lock.lock()
            hits[index] += 1
            threadsOfWorker[worker, default: []].insert(me)
            lock.unlock()
        }

        var workers: Set<Int> { lock.withLock { Set(threadsOfWorker.keys) } }
        /// Whether each worker number was used by one thread only.
        var oneThreadPerWorker: Bool { lock.withLock { threadsOfWorker.values.allSatisfy { $0.count == 1 } } }
    }

    @Test func everyIndexRunsOnceWithWorkerNumbersBelowTheThreadCount() {
        for (count, threads) in [(1, 4), (3, 8), (1000, 4), (17, 2)] {
            let record = Record(count: count)
            WorkerPool.forEach(count, threads: threads) { worker, index in
                record.hit(index, worker: worker)
                if index % 7 == 0 { usleep(100) }
            }
            #expect(record.hits == [Int](repeating: 1, count: count), "count \(count)")
            #expect(record.workers.allSatisfy { (0..<min(threads, count)).contains($0) })
            #expect(record.oneThreadPerWorker)
        }
    }

    @Test func callsAfterTheFirstStartNoThreads() {
        WorkerPool.forEach(64, threads: 4) { _, _ in usleep(50) }
        let started = WorkerPool.threadsStarted
        for _ in 0..<200 {
            WorkerPool.forEach(64, threads: 4) { _, _ in }
        }
        // 600 with a thread per helper and call; other suites running at the same time may need
        // a few threads of their own.
        #expect(WorkerPool.threadsStarted - started < 50)
    }

    @Test func nestedAndConcurrentCallsFinish() {
        let outer = Record(count: 8)
        let inner = Record(count: 8 * 50)
        let callers = 3
        let done = DispatchGroup()
        for caller in 0..<callers {
            done.enter()
            let thread = Thread {
                WorkerPool.forEach(8, threads: 4) { worker, i in
                    if caller == 0 { outer.hit(i, worker: worker) }
                    WorkerPool.forEach(50, threads: 4) { w, j in
                        if caller == 0 { inner.hit(i * 50 + j, worker: w) }
                    }
                }
                done.leave()
            }
            thread.start()
        }
        #expect(done.wait(timeout: .now() + 60) == .success)
        #expect(outer.hits == [Int](repeating: 1, count: 8))
        #expect(inner.hits == [Int](repeating: 1, count: 400))
    }
}

@Suite struct SerialWorkerTests {
    typealias Record = WorkerPoolTests.Record

    @Test func runsSubmittedWorkInOrderOnOneKeptThread() {
        let worker = SerialWorker(name: "test.serial")
        let order = Record(count: 20)
        let runs = (0..<20).map { i in
            worker.submit { () -> (Int, UInt) in
                usleep(i % 3 == 0 ? 200 : 0)
                order.hit(i, worker: 0)
                return (i, UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(bitPattern: UInt(pthread_self())))))
            }
        }.map { $0.wait() }
        #expect(runs.map(\.0) == Array(0..<20))
        #expect(Set(runs.map(\.1)).count == 1)
        #expect(runs[0].1 != UInt(pthread_self()))
    }

    @Test func theThreadEndsWithTheWorker() {
        final class Flag: @unchecked Sendable {
            let lock = NSLock()
            var ran = false
        }
        let flag = Flag()
        do {
            let worker = SerialWorker(name: "test.serial.short")
            _ = worker.submit { flag.lock.withLock { flag.ran = true } }.wait()
        }
        #expect(flag.lock.withLock { flag.ran })
    }
}
