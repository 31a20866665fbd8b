import GalaxyTraining
import Testing

@Suite struct HashSplitTests {
    // Expected values computed independently in Python:
    //   M = 0xFFFFFFFFFFFFFFFF
    //   def frac(s):
    //       h = 0xcbf29ce484222325
    //       for b in s.encode("utf-8"):
    //           h ^= b; h = (h * 0x100000001b3) & M
    //       h = ((h ^ (h >> 30)) * 0xbf58476d1ce4e5b9) & M
    //       h = ((h ^ (h >> 27)) * 0x94d049bb133111eb) & M
    //       h ^= h >> 31
    //       return (h >> 11) / 2**53
    @Test func fractionsMatchAnIndependentImplementation() {
        #expect(HashSplit.fraction(of: "588848901537202306") == 0.6123219353109521)
        #expect(HashSplit.fraction(of: "100008") == 0.31947907539370113)
        #expect(HashSplit.fraction(of: "a") == 0.010753497314070604)
        #expect(HashSplit.fraction(of: "") == 0.9576734252420561)
    }

    /// Short sequential ids, as `galaxy synth` writes them, spread like long ones.
    @Test func sequentialIdsSpreadEvenly() {
        let held = (1...1000).filter { HashSplit.isHeldOut(id: String($0), fraction: 0.2) }.count
        #expect(abs(held - 200) <= 40, "\(held) of 1000 held out at 0.2")
    }

    @Test func heldOutMeansBelowTheFraction() {
        #expect(HashSplit.isHeldOut(id: "588848901537202306", fraction: 0.62))
        #expect(!HashSplit.isHeldOut(id: "588848901537202306", fraction: 0.61))
        #expect(!HashSplit.isHeldOut(id: "100008", fraction: 0))
        #expect(HashSplit.isHeldOut(id: "100008", fraction: 1))
    }

    @Test func aboutTheFractionIsHeldOutAndGrowingItOnlyAdds() {
        let ids = (0..<10_000).map { String(587_722_981_741_363_200 + $0 * 7) }
        let fifth = Set(ids.filter { HashSplit.isHeldOut(id: $0, fraction: 0.2) })
        let quarter = Set(ids.filter { HashSplit.isHeldOut(id: $0, fraction: 0.25) })
        #expect(abs(Double(fifth.count) / 10_000 - 0.2) < 0.02)
        #expect(fifth.isSubset(of: quarter))
    }
}
