import Testing

@testable import GalaxyTraining

@Suite struct CalibrationTests {
    @Test func calibratedBinsGiveZero() throws {
        let c = Calibration(
            confidences: [0.8, 0.8, 0.8, 0.8, 0.8, 0.5, 0.5],
            correct: [true, true, true, true, false, true, false])
        #expect(try #require(c.expectedCalibrationError) < 1e-12)
        #expect(c.bins[12].count == 5 && c.bins[12].correct == 4)
        #expect(c.bins[7].count == 2)
    }

    @Test func overconfidenceIsMeasured() throws {
        // Four at 0.95 with half right, two at 0.55 with half right: (4·0.45 + 2·0.05) / 6.
        let c = Calibration(
            confidences: [0.95, 0.95, 0.95, 0.95, 0.55, 0.55],
            correct: [true, false, true, false, true, false])
        #expect(abs(try #require(c.expectedCalibrationError) - 1.9 / 6) < 1e-12)
        let flat = Calibration(
            confidences: [Double](repeating: 0.9, count: 10), correct: (0..<10).map { $0 < 6 })
        #expect(abs(try #require(flat.expectedCalibrationError) - 0.3) < 1e-12)
    }

    @Test func fifteenEqualBinsCoverZeroToOne() {
        let c = Calibration(confidences: [0, 1, 0.5, 1.0 / 15], correct: [false, true, true, true])
        #expect(c.bins.count == 15)
        #expect(c.bins.first?.lower == 0 && c.bins.last?.upper == 1)
        #expect(c.bins[0].count == 1 && c.bins[14].count == 1 && c.bins[1].count == 1 && c.bins[7].count == 1)
        #expect(c.bins.reduce(0) { $0 + $1.count } == 4)
        #expect(c.bins[3].accuracy == nil && c.bins[3].meanConfidence == nil)
        #expect(Calibration(confidences: [], correct: []).expectedCalibrationError == nil)
    }
}
