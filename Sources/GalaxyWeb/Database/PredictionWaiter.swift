import Foundation

/// Waits for the predictions of freshly uploaded images. One polling loop serves every waiting
/// request, so a hundred concurrent uploads cost one query per tick, not a hundred.
actor PredictionWaiter {
    private struct Waiter {
        var ids: Set<Int64>
        var found: [Int64: PredictionBody]
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<[Int64: PredictionBody], Never>
    }

    private let store: WebStore
    private let interval: Duration
    private var waiters: [Int: Waiter] = [:]
    private var nextKey = 0
    private var polling = false

    init(store: WebStore, interval: Duration = .milliseconds(10)) {
        self.store = store
        self.interval = interval
    }

    /// The finished (or failed) predictions of `ids` available before `timeout` ends; images
    /// still queued at the deadline are missing from the result.
    func wait(for ids: [Int64], timeout: Duration) async -> [Int64: PredictionBody] {
        if ids.isEmpty { return [:] }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        return await withCheckedContinuation { continuation in
            let key = nextKey
            nextKey += 1
            waiters[key] = Waiter(ids: Set(ids), found: [:], deadline: deadline, continuation: continuation)
            if !polling {
                polling = true
                Task { await self.pollLoop() }
            }
        }
    }

    private func pollLoop() async {
        while !waiters.isEmpty {
            let wanted = Array(Set(waiters.values.flatMap { $0.ids }))
            if let done = try? await store.finishedPredictions(imageIDs: wanted) {
                deliver(done)
            }
            expire()
            if waiters.isEmpty { break }
            try? await Task.sleep(for: interval)
        }
        polling = false
    }

    private func deliver(_ done: [Int64: PredictionBody]) {
        for (key, var waiter) in waiters {
            for id in waiter.ids {
                if let body = done[id] { waiter.found[id] = body }
            }
            waiter.ids.subtract(done.keys)
            if waiter.ids.isEmpty {
                waiters[key] = nil
                waiter.continuation.resume(returning: waiter.found)
            } else {
                waiters[key] = waiter
            }
        }
    }

    private func expire() {
        let now = ContinuousClock.now
        for (key, waiter) in waiters where waiter.deadline <= now {
            waiters[key] = nil
            waiter.continuation.resume(returning: waiter.found)
        }
    }
}
