import CGalaxyKernels
import Foundation
import GalaxyCore

/// The threads that join team runs besides their callers. Started on demand and kept; after a run a
/// helper spins for a while before it sleeps when images have been coming back to back (a
/// benchmark, a scan calling `galaxy.classify` row after row): waking a sleeping thread took about
/// as long as a whole image on the 2-vCPU machines measured. When the last image came after a pause
/// longer than the spin, helpers sleep at once: spinning would find nothing and only take a vCPU
/// from the database server (one pgbench client calling `galaxy.classify`, 1 ms apart: p50
/// 1.39-1.51 ms with spinning helpers against 1.15-1.28 ms with no team). A caller never waits for
/// a helper: it does every part no helper has taken, and a helper that arrives after the last part
/// finds nothing left (`TeamRun.join`).
final class TeamHelpers: @unchecked Sendable {
    static let shared = TeamHelpers()

    /// How long an idle helper spins before it sleeps.
    static let spinNanoseconds = 300_000

    private let condition = NSCondition()
    /// One entry per seat offered; guarded by `condition`.
    private var offers: [TeamRun] = []
    /// What spinning helpers watch without the lock: `offers.count`, or -1 when a caller asked
    /// them to sleep (`rest`). Written under the lock.
    private let signal = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    private var started = 0
    /// How long helpers spin after the current run; guarded by `condition`.
    private var spin = TeamHelpers.spinNanoseconds
    /// When the last run gave its seats back; guarded by `condition`.
    private var lastWithdrawn: UInt64 = 0

    private init() { signal.initialize(to: 0) }

    /// Offers `seats` helper seats of `run`. There are never more helpers than the largest team
    /// asked for: seats that no helper takes in time are done by their caller, and more threads
    /// than cores would only spin against each other.
    func offer(_ run: TeamRun, seats: Int) {
        guard seats > 0 else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        condition.lock()
        spin = Self.spin(now: now, lastWithdrawn: lastWithdrawn)
        for _ in 0..<seats { offers.append(run) }
        galaxy_team_store(signal, offers.count)
        while started < seats { startThread() }
        condition.signal()
        if seats > 1 { condition.broadcast() }
        condition.unlock()
    }

    /// How long helpers spin after a run offered at `now`: the spin when the last run gave its
    /// seats back less than a spin ago, else none. Concurrent callers read their clocks before the
    /// lock, so the last withdrawal may be stamped after `now`: that counts as just now.
    static func spin(now: UInt64, lastWithdrawn: UInt64) -> Int {
        now < lastWithdrawn || now - lastWithdrawn < UInt64(spinNanoseconds) ? spinNanoseconds : 0
    }

    /// Takes back the seats of `run` that no helper took.
    func withdraw(_ run: TeamRun) {
        let now = DispatchTime.now().uptimeNanoseconds
        condition.lock()
        lastWithdrawn = now
        offers.removeAll { $0 === run }
        galaxy_team_store(signal, offers.count)
        condition.unlock()
    }

    /// Sends spinning helpers to sleep: the caller is about to run an image alone, and a spinning
    /// thread only takes a vCPU from whatever else runs (on a shared core, from the caller).
    func rest() {
        condition.lock()
        if offers.isEmpty { galaxy_team_store(signal, -1) }
        condition.unlock()
    }

    private func startThread() {
        started += 1
        startKeptThread(named: "galaxy.team") { [self] in self.serve() }
    }

    private func serve() {
        while true {
            condition.lock()
            let budget = spin
            condition.unlock()
            let woken = budget > 0 && galaxy_team_await(signal, budget) != 0
            condition.lock()
            // Sleep when the spin ran out or a caller asked for rest. A seat withdrawn before this
            // thread got to it sends it back to spinning: more images are likely to follow.
            if offers.isEmpty && (!woken || signal.pointee < 0) { condition.wait() }
            guard !offers.isEmpty else {
                condition.unlock()
                continue
            }
            let run = offers.removeFirst()
            galaxy_team_store(signal, offers.count)
            condition.unlock()
            run.join()
        }
    }
}
