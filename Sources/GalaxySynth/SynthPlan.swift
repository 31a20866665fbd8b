import GalaxyCore

/// How the 13 labels are distributed over a synthetic data set.
public enum SynthMix: String, Sendable, CaseIterable {
    /// Every label equally often: each consecutive block of 13 images holds each label once.
    case balanced
    /// A rough Galaxy Zoo 2-like mix: many ellipticals and late spirals, few bulge-dominated or
    /// barred late types, a few percent artefacts (see docs/data.md).
    case realistic

    /// Relative weights of `GalaxyLabels.standard` under the realistic mix.
    static let realisticWeights: [String: Double] = [
        "A": 4, "Er": 14, "Ei": 16, "Ec": 4, "Sa": 4, "Sb": 8, "Sc": 12, "Sd": 5, "Se": 10,
        "SBa": 3, "SBb": 8, "SBc": 8, "SBd": 4,
    ]
}

/// One image of a synthetic data set: its identity, label and how to render and encode it.
public struct SynthItem: Sendable, Hashable {
    /// Position in the data set, from 0.
    public var index: Int
    /// Catalog id; the image is `images/<id>.jpg`.
    public var id: Int
    /// A survey-like 18-digit spectroscopic object id, unique within the data set.
    public var specobjid: Int64
    /// One of `GalaxyLabels.standard`.
    public var label: String
    /// The seed passed to `SyntheticGalaxyRenderer.render(label:seed:)`.
    public var renderSeed: UInt64
    /// JPEG quality of the file.
    public var jpegQuality: Int
}

/// Everything that determines a synthetic data set: the same plan gives the same bytes.
public struct SynthPlan: Sendable, Hashable {
    /// Seed of the whole data set.
    public var seed: UInt64
    /// Number of images.
    public var count: Int
    /// Label distribution.
    public var mix: SynthMix
    /// JPEG qualities are drawn uniformly from this range.
    public var qualityRange: ClosedRange<Int>
    /// Catalog id of the first image.
    public var firstID: Int
    /// Frame size in pixels.
    public var size: Int

    /// A plan; the defaults give 424x424 Galaxy Zoo-like cutouts with ids from 1.
    public init(
        seed: UInt64, count: Int, mix: SynthMix = .balanced, qualityRange: ClosedRange<Int> = 80...95,
        firstID: Int = 1, size: Int = 424
    ) {
        self.seed = seed
        self.count = count
        self.mix = mix
        self.qualityRange = qualityRange
        self.firstID = firstID
        self.size = size
    }

    /// Checks the ranges before any work starts.
    public func validate() throws(SynthError) {
        if count < 1 { throw SynthError(.invalidArgument, "count must be at least 1 (got \(count))") }
        if qualityRange.lowerBound < 1 || qualityRange.upperBound > 100 {
            throw SynthError(
                .invalidArgument,
                "JPEG quality range \(qualityRange.lowerBound)-\(qualityRange.upperBound) must lie within 1-100"
            )
        }
        if size < 16 {
            throw SynthError(.invalidArgument, "image size must be at least 16 pixels (got \(size))")
        }
        if firstID < 0 {
            throw SynthError(.invalidArgument, "first id must not be negative (got \(firstID))")
        }
    }

    /// The item at `index` (independent of every other item, so rendering can run in any order).
    public func item(_ index: Int) -> SynthItem {
        var rng = SynthRandom(seed: seed, index: UInt64(index))
        let renderSeed = rng.next()
        let quality = rng.int(qualityRange)
        let label: String
        switch mix {
        case .balanced:
            let labels = GalaxyLabels.standard
            var blockRandom = SynthRandom(seed: seed ^ 0xB1A5_ED00, index: UInt64(index / labels.count))
            label = labels.shuffled(using: &blockRandom)[index % labels.count]
        case .realistic:
            label = Self.weightedLabel(rng.unit())
        }
        return SynthItem(
            index: index, id: firstID + index, specobjid: specobjidBase + Int64(index) * 4096,
            label: label, renderSeed: renderSeed, jpegQuality: quality)
    }

    /// 18 digits like the survey's ids; the seed picks one of 60,000 ranges of a trillion.
    private var specobjidBase: Int64 {
        let bucket = Int64(SynthRandom.derive(seed: seed, index: 0x5EC0) % 60_000)
        return 299_000_000_000_000_000 + bucket * 1_000_000_000_000
    }

    private static func weightedLabel(_ u: Double) -> String {
        let labels = GalaxyLabels.standard
        let total = labels.reduce(0) { $0 + (SynthMix.realisticWeights[$1] ?? 0) }
        var cumulative = 0.0
        for label in labels {
            cumulative += (SynthMix.realisticWeights[label] ?? 0) / total
            if u < cumulative { return label }
        }
        return labels[labels.count - 1]
    }
}
