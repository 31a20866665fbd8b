import GalaxyCore

/// Preprocessed samples in memory: `count` input tensors (NCHW, one after another) and their
/// targets. The test set holds the plain images; a training set either every augmented copy or,
/// when augmentation renders samples on the fly, the plain images it starts from.
public struct SampleSet: Sendable {
    public let sampleSize: Int
    /// Labels of the vocabulary the targets are over.
    public let classes: Int
    public private(set) var features: [Float]
    /// One representative label per sample (the label, a set's first member, a distribution's top).
    public private(set) var labels: [Int32]
    /// `classes` values per sample: a 0/1 mask of the allowed labels, or a distribution where `soft`.
    public private(set) var targets: [Float]
    public private(set) var soft: [Bool]
    /// Which source image each sample came from (for reports and de-duplication).
    public private(set) var sourceIndices: [Int]

    public var count: Int { labels.count }

    /// Samples with one label each.
    public init(sampleSize: Int, features: [Float], labels: [Int32], classes: Int, sourceIndices: [Int]? = nil) {
        self.init(
            sampleSize: sampleSize, features: features, targets: labels.map { TrainingTarget.label(Int($0)) }, classes: classes,
            sourceIndices: sourceIndices)
    }

    public init(sampleSize: Int, features: [Float], targets: [TrainingTarget], classes: Int, sourceIndices: [Int]? = nil) {
        precondition(features.count == sampleSize * targets.count, "sample set: \(features.count) floats for \(targets.count) samples of \(sampleSize)")
        self.sampleSize = sampleSize
        self.classes = classes
        self.features = features
        labels = targets.map { Int32($0.representativeLabel) }
        var rows = [Float](repeating: 0, count: targets.count * classes)
        var soft = [Bool](repeating: false, count: targets.count)
        for (n, target) in targets.enumerated() {
            switch target {
            case .distribution(let p):
                precondition(p.count == classes, "distribution over \(p.count) labels, expected \(classes)")
                for k in 0..<classes { rows[n * classes + k] = p[k] }
                soft[n] = true
            default:
                for k in target.allowedLabels {
                    precondition(k >= 0 && k < classes, "label index \(k) outside 0..<\(classes)")
                    rows[n * classes + k] = 1
                }
            }
        }
        self.targets = rows
        self.soft = soft
        self.sourceIndices = sourceIndices ?? Array(0..<targets.count)
    }

    /// The target of sample `n`, as it was given.
    public func target(_ n: Int) -> TrainingTarget {
        let row = Array(targets[(n * classes)..<((n + 1) * classes)])
        if soft[n] { return .distribution(row) }
        let allowed = row.indices.filter { row[$0] > 0 }
        return allowed.count == 1 ? .label(allowed[0]) : .anyOf(allowed)
    }
}
