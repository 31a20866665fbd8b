import Testing

@testable import GalaxyImage

@Suite struct AreaWeightsTests {
    static func members(_ w: AreaWeights, _ o: Int) -> [Int] {
        Array(w.starts[o]..<(w.starts[o] + w.counts[o]))
    }

    @Test(arguments: [(204, 50), (50, 50), (106, 50), (53, 50), (7, 3), (30, 50), (1, 4), (4096, 17)])
    func rangesStayInsideAndAreNeverEmpty(input: Int, output: Int) {
        let w = AreaWeights(input: input, output: output)
        #expect(w.starts.count == output && w.counts.count == output)
        for o in 0..<output {
            #expect(w.counts[o] >= 1 && w.starts[o] >= 0 && w.starts[o] + w.counts[o] <= input)
            #expect(abs(w.reciprocals[o] * Float(w.counts[o]) - 1) < 1e-6)
        }
        if input >= output {
            // Shrinking uses every input pixel exactly once, in order.
            #expect((0..<output).flatMap { Self.members(w, $0) } == Array(0..<input))
        }
    }

    @Test func shrinkingAveragesWholePixelsByTheirCentres() {
        // 204 -> 50: scale 4.08; output 0 covers (0, 4.08]: centres 0.5...3.5, pixels 0...3;
        // output 12 covers (48.96, 53.04]: pixels 49...52.
        let w = AreaWeights(input: 204, output: 50)
        #expect(Self.members(w, 0) == [0, 1, 2, 3])
        #expect(Self.members(w, 1) == [4, 5, 6, 7])
        #expect(Self.members(w, 12) == [49, 50, 51, 52])
        #expect(Self.members(w, 49) == [200, 201, 202, 203])
    }

    @Test func enlargingTakesTheNearestPixel() {
        let w = AreaWeights(input: 2, output: 4)
        #expect((0..<4).map { Self.members(w, $0) } == [[0], [0], [1], [1]])
        let same = AreaWeights(input: 50, output: 50)
        #expect((0..<50).map { Self.members(same, $0) } == (0..<50).map { [$0] })
    }
}
