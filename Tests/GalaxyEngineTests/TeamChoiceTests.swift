import Testing

@testable import GalaxyEngine

@Suite struct TeamChoiceTests {
    /// Runs `count` images; an image takes `team` or `alone` nanoseconds by the way it runs, and
    /// `cold` times that when it is the first after a change of way. Returns the ways, in order.
    static func run(_ choice: TeamChoice, count: Int, team: UInt64, alone: UInt64, cold: UInt64 = 1) -> [Bool] {
        var ways: [Bool] = []
        for _ in 0..<count {
            let decision = choice.next()
            let changed = ways.last.map { $0 != decision.team } ?? false
            choice.record(decision, nanoseconds: (decision.team ? team : alone) * (changed ? cold : 1))
            ways.append(decision.team)
        }
        return ways
    }

    /// The longest run of images in `ways` that never ran `way`.
    static func longestWithout(_ way: Bool, in ways: [Bool]) -> Int {
        var longest = 0, current = 0
        for w in ways {
            current = w == way ? 0 : current + 1
            longest = max(longest, current)
        }
        return longest
    }

    static let period = TeamChoice.exploreEvery + TeamChoice.burstLength

    @Test func theFasterWayRunsAndTheOtherIsStillTriedInBursts() {
        let choice = TeamChoice()
        _ = Self.run(choice, count: 64, team: 230_000, alone: 370_000)
        let ways = Self.run(choice, count: 10 * Self.period, team: 230_000, alone: 370_000)
        #expect(ways.filter { !$0 }.count == 10 * TeamChoice.burstLength)
        #expect(Self.longestWithout(false, in: ways) <= TeamChoice.exploreEvery + 1)
        let slowerFirst = TeamChoice()
        let alone = Self.run(slowerFirst, count: 10 * Self.period, team: 500_000, alone: 370_000)
        #expect(alone.suffix(5 * Self.period).filter { $0 }.count == 5 * TeamChoice.burstLength)
    }

    @Test func aTeamThatGetsSlowerThanOneThreadIsDroppedAndTakenBackWhenItRecovers() {
        let choice = TeamChoice()
        _ = Self.run(choice, count: 4 * Self.period, team: 230_000, alone: 370_000, cold: 2)
        // The machine's state flips: a team now takes 500 us an image.
        _ = Self.run(choice, count: 2 * Self.period, team: 500_000, alone: 370_000, cold: 2)
        let slow = Self.run(choice, count: 4 * Self.period, team: 500_000, alone: 370_000, cold: 2)
        #expect(slow.filter { $0 }.count == 4 * TeamChoice.burstLength)
        // Back again: the team's bursts notice it.
        _ = Self.run(choice, count: 3 * Self.period, team: 230_000, alone: 370_000, cold: 2)
        let fast = Self.run(choice, count: 4 * Self.period, team: 230_000, alone: 370_000, cold: 2)
        #expect(fast.filter { !$0 }.count == 4 * TeamChoice.burstLength)
    }

    /// The first alone images after team runs were measured 1.6x slow (the weights sit in the other
    /// core's cache): they must not make a faster one-thread way look slower than a team.
    @Test func coldImagesAfterAChangeOfWayDoNotCount() {
        let choice = TeamChoice()
        let ways = Self.run(choice, count: 10 * Self.period, team: 450_000, alone: 370_000, cold: 3)
        #expect(ways.suffix(5 * Self.period).filter { $0 }.count == 5 * TeamChoice.burstLength)
    }

    @Test func oneStalledImageDoesNotFlipTheChoice() {
        let choice = TeamChoice()
        _ = Self.run(choice, count: 64, team: 230_000, alone: 370_000)
        choice.record(TeamChoice.Decision(team: true, counts: true), nanoseconds: 50_000_000)
        #expect(choice.next().team)
    }
}
