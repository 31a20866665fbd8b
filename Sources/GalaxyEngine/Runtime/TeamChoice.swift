import Foundation

/// Whether a single image runs faster shared by a team of threads or alone, learnt from the
/// images themselves. The same 2-vCPU machine was seen to flip, minutes apart and for minutes at
/// a time, between a state where a team ran the shipped model 1.6x faster than one thread and one
/// where it ran 0.75x as fast (both vCPUs busy, every exchange between them slow), so the choice
/// cannot be made once. Each way's time per image is a moving average; every `exploreEvery`
/// images the slower-looking way runs a burst of `burstLength`. The first `warmup` images after
/// a change of way do not count: they wake helper threads and move the weights between the
/// cores' caches (the first alone images after a team run took 1.6x their steady time).
final class TeamChoice: @unchecked Sendable {
    static let exploreEvery = 256
    static let burstLength = 8
    static let warmup = 3
    /// Weight of a new time in its way's average.
    static let weight = 0.125

    /// How to run the next image, and whether its time should count.
    struct Decision: Equatable {
        let team: Bool
        let counts: Bool
    }

    private let lock = NSLock()
    private var teamNanoseconds: Double?
    private var aloneNanoseconds: Double?
    private var sinceBurst = 0
    private var burstLeft = 0
    private var lastWasTeam: Bool?
    private var streak = 0

    /// How to run the next image.
    func next() -> Decision {
        lock.lock()
        defer { lock.unlock() }
        let team: Bool
        if teamNanoseconds == nil {
            team = true
        } else if aloneNanoseconds == nil {
            team = false
        } else {
            let teamIsFaster = teamNanoseconds! <= aloneNanoseconds!
            sinceBurst += 1
            if burstLeft == 0 && sinceBurst > Self.exploreEvery {
                burstLeft = Self.burstLength
                sinceBurst = 0
            }
            if burstLeft > 0 {
                burstLeft -= 1
                team = !teamIsFaster
            } else {
                team = teamIsFaster
            }
        }
        streak = lastWasTeam == team ? streak + 1 : 1
        lastWasTeam = team
        return Decision(team: team, counts: streak > Self.warmup)
    }

    /// Records how long an image took the way `decision` ran it.
    func record(_ decision: Decision, nanoseconds: UInt64) {
        guard decision.counts else { return }
        lock.lock()
        defer { lock.unlock() }
        if decision.team {
            teamNanoseconds = Self.average(teamNanoseconds, Double(nanoseconds))
        } else {
            aloneNanoseconds = Self.average(aloneNanoseconds, Double(nanoseconds))
        }
    }

    /// The moving average with `time` added; a time over twice the average (the thread lost its
    /// core for a while) counts as twice the average, so one such image cannot flip the choice.
    private static func average(_ current: Double?, _ time: Double) -> Double {
        guard let current else { return time }
        return current + weight * (min(time, 2 * current) - current)
    }
}
