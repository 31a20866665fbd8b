import GalaxyTraining
import Testing

@Suite struct HashSplitTests {
    // Expected values computed independently in Python:
    //   def frac(s):
    //       h = 0xcbf29ce484222325
    //       for b in s.encode("utf-8"):
    //           h ^= b; h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    //       return (h >> 11) / 2**53
    //   frac("588848901537202306")  # 0.07086000961109273 (hash 0x1223e1afdfb731de)
    //   frac("100008")              # 0.19319660089843615 (hash 0x3175551a8ea13a0c)
    //   frac("a")                   # 0.6851175009560461  (hash 0xaf63dc4c8601ec8c, the FNV-1a test vector)
    //   frac("")                    # 0.7966707284832713  (the offset basis itself)
    @Test func fractionsMatchAnIndependentImplementation() {
        #expect(HashSplit.fraction(of: "588848901537202306") == 0.07086000961109273)
        #expect(HashSplit.fraction(of: "100008") == 0.19319660089843615)
        #expect(HashSplit.fraction(of: "a") == 0.6851175009560461)
        #expect(HashSplit.fraction(of: "") == 0.7966707284832713)
    }

    @Test func heldOutMeansBelowTheFraction() {
        #expect(HashSplit.isHeldOut(id: "588848901537202306", fraction: 0.1))
        #expect(!HashSplit.isHeldOut(id: "588848901537202306", fraction: 0.07))
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
