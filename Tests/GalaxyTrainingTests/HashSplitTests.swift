import Testing

@testable import GalaxyTraining

@Suite struct HashSplitTests {
    @Test func fnv1aOverUTF8Bytes() {
        // FNV-1a 64 of "" is the offset basis, of "a" the published 0xaf63dc4c8601ec8c.
        #expect(
            HashSplit.fraction(of: "") == Double(UInt64(0xcbf2_9ce4_8422_2325) >> 11) / 9_007_199_254_740_992)
        #expect(
            HashSplit.fraction(of: "a") == Double(UInt64(0xaf63_dc4c_8601_ec8c) >> 11) / 9_007_199_254_740_992
        )
    }

    @Test func heldOutShareFollowsTheFraction() {
        let ids = (0..<20_000).map { "gz\($0)" }
        let held = ids.filter { HashSplit.isHeldOut(id: $0, fraction: 0.2) }
        #expect(abs(Double(held.count) / Double(ids.count) - 0.2) < 0.02)
        #expect(
            ids.allSatisfy {
                !HashSplit.isHeldOut(id: $0, fraction: 0) && HashSplit.isHeldOut(id: $0, fraction: 1)
            })
        // Nested: a smaller held-out set is inside a larger one.
        #expect(
            ids.filter { HashSplit.isHeldOut(id: $0, fraction: 0.1) }.allSatisfy {
                HashSplit.isHeldOut(id: $0, fraction: 0.2)
            })
    }
}
