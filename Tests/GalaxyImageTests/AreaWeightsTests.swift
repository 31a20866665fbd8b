import Testing
@testable import GalaxyImage

@Suite struct AreaWeightsTests {
    @Test(arguments: [(204, 50), (50, 50), (106, 50), (53, 50), (7, 3), (30, 50), (1, 4), (4096, 17)])
    func weightsAreNormalisedAndStayInside(input: Int, output: Int) {
        let w = AreaWeights(input: input, output: output)
        #expect(w.starts.count == output)
        for o in 0..<output {
            let row = w.weights[(o * w.taps)..<((o + 1) * w.taps)]
            #expect(abs(row.reduce(0, +) - 1) < 1e-5, "output \(o) of \(input) -> \(output)")
            #expect(w.starts[o] >= 0 && w.starts[o] + w.taps <= input)
        }
    }

    @Test func shrinkingAveragesWholePixelsByTheirCentres() {
        // 204 -> 50: scale 4.08; output 0 covers [0, 4.08): pixels 0...3; output 1 covers
        // [4.08, 8.16): centres 4.5...7.5, pixels 4...7; output 12 covers [48.96, 53.04): 49...52.
        let w = AreaWeights(input: 204, output: 50)
        func members(_ o: Int) -> [Int] {
            (0..<w.taps).filter { w.weights[o * w.taps + $0] > 0 }.map { w.starts[o] + $0 }
        }
        #expect(members(0) == [0, 1, 2, 3])
        #expect(members(1) == [4, 5, 6, 7])
        #expect(members(12) == [49, 50, 51, 52])
        #expect(members(49) == [200, 201, 202, 203])
        // Every input pixel is used exactly once.
        #expect((0..<50).flatMap(members) == Array(0..<204))
    }

    @Test func sameSizeIsTheIdentity() {
        let w = AreaWeights(input: 50, output: 50)
        for o in 0..<50 {
            let members = (0..<w.taps).filter { w.weights[o * w.taps + $0] > 0 }.map { w.starts[o] + $0 }
            #expect(members == [o])
        }
    }
}
