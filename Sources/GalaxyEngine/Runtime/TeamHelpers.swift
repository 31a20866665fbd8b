import CGalaxyKernels
import Foundation

/// The threads that join team runs besides their callers. Started on demand and kept; after a
/// run a helper spins for a while before it sleeps, because single images come back to back
/// (a stream of `predict_galaxy` calls, a benchmark) and waking a sleeping thread took about as
/// long as a whole image on the 2-vCPU machines measured. A caller never waits for a helper:
/// it does every part no helper has claimed, and a helper that arrives after the last part
/// finds nothing left (`TeamRun.join`).
final class TeamHelpers: @unchecked Sendable {
    static let shared = TeamHelpers()

    /// How long an idle helper spins before it sleeps.
    static let spinNanoseconds = 300_000

    private let condition = NSCondition()
    /// One entry per seat offered; guarded by `condition`.
    private var offers: [TeamRun] = []
    /// `offers.count`, readable without the lock by spinning helpers.
    private let offerCount = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    private var started = 0

    private init() { offerCount.initialize(to: 0) }

    /// Offers `seats` helper seats of `run`. There are never more helpers than the largest team
    /// asked for: seats that no helper takes in time are done by their caller, and more threads
    /// than cores would only spin against each other.
    func offer(_ run: TeamRun, seats: Int) {
        guard seats > 0 else { return }
        condition.lock()
        for _ in 0..<seats { offers.append(run) }
        galaxy_team_store(offerCount, offers.count)
        while started < seats { startThread() }
        condition.signal()
        if seats > 1 { condition.broadcast() }
        condition.unlock()
    }

    /// Takes back the seats of `run` that no helper took.
    func withdraw(_ run: TeamRun) {
        condition.lock()
        offers.removeAll { $0 === run }
        galaxy_team_store(offerCount, offers.count)
        condition.unlock()
    }

    private func startThread() {
        started += 1
        let thread = Thread { [self] in self.serve() }
        thread.name = "galaxy.team"
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func serve() {
        while true {
            let offered = galaxy_team_await(offerCount, Self.spinNanoseconds) != 0
            condition.lock()
            if offers.isEmpty && !offered { condition.wait() }
            // A seat withdrawn before this thread got to it, or a spurious wake: spin again, since
            // more images are likely to follow the one just done.
            guard !offers.isEmpty else {
                condition.unlock()
                continue
            }
            let run = offers.removeFirst()
            galaxy_team_store(offerCount, offers.count)
            condition.unlock()
            run.join()
        }
    }
}
