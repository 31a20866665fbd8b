import GalaxyCore
import GalaxyEngine

/// The accuracy guard of reduced-precision variants: a model and its variant classify the same
/// labelled held-out images, and the variant is kept only when it agrees with the original and
/// loses no accuracy beyond the thresholds (docs/engine.md, "Reduced precision").
public enum PrecisionCheck {
    /// Share of images whose high-level class must not change.
    public static let minimumHighLevelAgreement = 0.995
    /// Share of images whose low-level label must not change.
    public static let minimumLowLevelAgreement = 0.98
    /// Largest allowed drop of high-level accuracy against the labels (0.3 points).
    public static let maximumAccuracyDrop = 0.003

    /// - Parameters:
    ///   - original: the fp32 model.
    ///   - variant: the same model in reduced precision.
    ///   - images: labelled images neither was trained on.
    ///   - source: where the images came from, for the report.
    ///   - progress: a progress bar for each of the two runs (given the run's precision), or nil.
    /// - Throws: `TrainingError.label` naming the image whose label is not in the model's vocabulary.
    public static func run(
        original: InferenceModel, variant: InferenceModel, images: [LabeledImage], source: String, threads: Int,
        progress: (Precision) -> ProgressBar? = { _ in nil }
    ) throws(TrainingError) -> PrecisionCheckReport {
        let reference = try ModelEvaluation.run(
            model: original, images: images, threads: threads, progress: progress(original.metadata.precision))
        let reduced = try ModelEvaluation.run(
            model: variant, images: images, threads: threads, progress: progress(variant.metadata.precision))
        // Both decode the same images the same way, so they classify the same ones, in order.
        let pairs = zip(reference.predictions, reduced.predictions)
        let count = min(reference.predictions.count, reduced.predictions.count)
        let sameClass = pairs.filter { $0.galaxyClass == $1.galaxyClass }.count
        let sameLabel = pairs.filter { $0.label == $1.label }.count
        func share(_ n: Int) -> Double { count == 0 ? 0 : Double(n) / Double(count) }
        return PrecisionCheckReport(
            precision: variant.metadata.precision, images: count, source: source,
            highLevelAgreement: share(sameClass), lowLevelAgreement: share(sameLabel),
            fp32HighLevelAccuracy: reference.evaluation.highLevel.accuracy ?? 0,
            variantHighLevelAccuracy: reduced.evaluation.highLevel.accuracy ?? 0,
            minimumHighLevelAgreement: minimumHighLevelAgreement, minimumLowLevelAgreement: minimumLowLevelAgreement,
            maximumAccuracyDrop: maximumAccuracyDrop, cpu: CPUDescription.current)
    }
}
