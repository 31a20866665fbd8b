/// One bin of a reliability diagram: the predictions whose confidence fell in `[lower, upper)`
/// (the last bin includes 1).
public struct CalibrationBin: Sendable, Codable, Hashable {
    public var lower: Double
    public var upper: Double
    /// Predictions in the bin.
    public var count: Int
    /// Correct predictions in the bin.
    public var correct: Int
    /// Mean confidence of the bin's predictions; nil for an empty bin.
    public var meanConfidence: Double?
    /// `correct / count`; nil for an empty bin.
    public var accuracy: Double?

    public init(lower: Double, upper: Double, count: Int, correct: Int, meanConfidence: Double?) {
        self.lower = lower
        self.upper = upper
        self.count = count
        self.correct = correct
        self.meanConfidence = meanConfidence
        accuracy = count == 0 ? nil : Double(correct) / Double(count)
    }
}

/// How far confidence is from accuracy: equal-width confidence bins and the expected calibration
/// error `ECE = Σ_b (n_b / N) · |acc_b − conf_b|`.
public struct Calibration: Sendable, Codable, Hashable {
    /// The bin count every evaluation uses.
    public static let standardBinCount = 15

    public var bins: [CalibrationBin]
    /// The expected calibration error; nil when there are no predictions.
    public var expectedCalibrationError: Double?

    /// - Parameters:
    ///   - confidences: each prediction's confidence in [0, 1] (the predicted group's probability).
    ///   - correct: whether each prediction was correct.
    ///   - binCount: equal-width bins over [0, 1].
    public init(confidences: [Double], correct: [Bool], binCount: Int = Calibration.standardBinCount) {
        precondition(
            confidences.count == correct.count && binCount > 0, "Calibration: one flag per confidence")
        var counts = [Int](repeating: 0, count: binCount)
        var hits = [Int](repeating: 0, count: binCount)
        var sums = [Double](repeating: 0, count: binCount)
        for (confidence, ok) in zip(confidences, correct) {
            let c = min(max(confidence, 0), 1)
            let b = min(Int(c * Double(binCount)), binCount - 1)
            counts[b] += 1
            sums[b] += c
            if ok { hits[b] += 1 }
        }
        bins = (0..<binCount).map { b in
            CalibrationBin(
                lower: Double(b) / Double(binCount), upper: Double(b + 1) / Double(binCount),
                count: counts[b], correct: hits[b],
                meanConfidence: counts[b] == 0 ? nil : sums[b] / Double(counts[b]))
        }
        let total = confidences.count
        guard total > 0 else {
            expectedCalibrationError = nil
            return
        }
        expectedCalibrationError = bins.reduce(0.0) { sum, bin in
            guard let accuracy = bin.accuracy, let confidence = bin.meanConfidence else { return sum }
            return sum + Double(bin.count) / Double(total) * abs(accuracy - confidence)
        }
    }
}
