import ArgumentParser
import Foundation
import GalaxyCore
import GalaxySynth

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Render a synthetic Galaxy Zoo-like data set with a catalog.",
        discussion: """
            Writes OUT/images/<id>.jpg (424x424 RGB JPEGs like the Galaxy Zoo cutouts) and \
            OUT/catalog.csv with the columns id,specobjid,label. The same seed and count give \
            the same bytes whatever the thread count.
            """)

    @Option(name: .long, help: "Output folder (created when missing).")
    var out: String

    @Option(name: .long, help: "Number of images.")
    var count: Int

    @Option(name: .long, help: "Seed of the data set.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Worker threads (default: all cores, or GALAXY_THREADS).")
    var threads: Int = WorkerPool.defaultThreadCount

    @Option(name: .long, help: "JPEG quality range, for example 80-95, or one value.")
    var qualityRange: String = "80-95"

    @Option(
        name: .long, help: "Label mix: balanced (every label equally often) or realistic (Galaxy Zoo 2-like)."
    )
    var mix: String = "balanced"

    @Option(name: .long, help: "Catalog id of the first image; later images count up from it.")
    var firstId: Int = 1

    @Option(name: .long, help: "Frame size in pixels (Galaxy Zoo cutouts are 424).")
    var size: Int = 424

    @Flag(name: .long, help: "No progress bar.")
    var quiet = false

    func validate() throws {
        if count < 1 { throw ValidationError("Please specify a '--count' of at least 1.") }
        if threads < 1 { throw ValidationError("Please specify '--threads' of at least 1.") }
        if SynthMix(rawValue: mix) == nil {
            throw ValidationError(
                "'--mix' must be one of: \(SynthMix.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        _ = try parsedQualityRange()
    }

    func parsedQualityRange() throws -> ClosedRange<Int> {
        let parts = qualityRange.split(separator: "-", omittingEmptySubsequences: false)
        let numbers = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (parts.count == 1 || parts.count == 2), numbers.count == parts.count,
            let low = numbers.first, let high = numbers.last, low <= high, low >= 1, high <= 100
        else {
            throw ValidationError(
                "'--quality-range' must be LOW-HIGH or one value within 1-100, for example 80-95 (got '\(qualityRange)')."
            )
        }
        return low...high
    }

    func run() throws {
        let plan = SynthPlan(
            seed: seed, count: count, mix: SynthMix(rawValue: mix) ?? .balanced,
            qualityRange: try parsedQualityRange(), firstID: firstId, size: size)
        let progress = quiet ? nil : ProgressBar(title: "synth", total: count)
        let summary = try SyntheticDatasetWriter.write(
            plan: plan, to: out, threads: threads, progress: progress)
        progress?.finish()
        let perLabel = GalaxyLabels.standard.map { "\($0) \(summary.labelCounts[$0] ?? 0)" }.joined(
            separator: ", ")
        print(
            String(
                format: "rendered %d images (%.1f MB) into %@ in %.1f s (%.0f images/s)",
                summary.images, Double(summary.bytes) / 1e6,
                (out as NSString).appendingPathComponent("images"),
                summary.seconds, Double(summary.images) / max(summary.seconds, 1e-9)))
        print("labels: \(perLabel)")
        print("catalog: \((out as NSString).appendingPathComponent("catalog.csv"))")
    }
}
