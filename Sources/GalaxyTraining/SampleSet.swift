/// Preprocessed samples in memory: `count` input tensors (NCHW, one after another) and their
/// label indices. The training set holds every augmented copy; the test set the plain images.
public struct SampleSet: Sendable {
    public let sampleSize: Int
    public private(set) var features: [Float]
    public private(set) var labels: [Int32]
    /// Which source image each sample came from (for reports and de-duplication).
    public private(set) var sourceIndices: [Int]

    public var count: Int { labels.count }

    public init(sampleSize: Int) {
        self.sampleSize = sampleSize
        features = []
        labels = []
        sourceIndices = []
    }

    public init(sampleSize: Int, features: [Float], labels: [Int32], sourceIndices: [Int]? = nil) {
        precondition(features.count == sampleSize * labels.count, "sample set: \(features.count) floats for \(labels.count) samples of \(sampleSize)")
        self.sampleSize = sampleSize
        self.features = features
        self.labels = labels
        self.sourceIndices = sourceIndices ?? Array(0..<labels.count)
    }

    public mutating func reserveCapacity(_ n: Int) {
        features.reserveCapacity(n * sampleSize)
        labels.reserveCapacity(n)
        sourceIndices.reserveCapacity(n)
    }

    public mutating func append(_ sample: [Float], label: Int32, source: Int) {
        precondition(sample.count == sampleSize, "sample of \(sample.count) values, expected \(sampleSize)")
        features.append(contentsOf: sample)
        labels.append(label)
        sourceIndices.append(source)
    }

    public mutating func append(contentsOf other: SampleSet) {
        precondition(other.sampleSize == sampleSize, "sample sets of different sample sizes")
        features.append(contentsOf: other.features)
        labels.append(contentsOf: other.labels)
        sourceIndices.append(contentsOf: other.sourceIndices)
    }
}
