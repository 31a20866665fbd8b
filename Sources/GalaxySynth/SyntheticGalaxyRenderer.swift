import GalaxyCore
import GalaxyImage

/// Renders Galaxy Zoo-like cutouts (SDSS gri composites, galaxy centred, dark sky) for any of the
/// 13 labels in `GalaxyLabels.standard`, deterministically from a seed and without touching disk.
///
/// Geometry is expressed for a 424-pixel frame and scaled to `size`, so tests can render small
/// frames with the same morphology.
public struct SyntheticGalaxyRenderer: Sendable {
    /// Width and height of the rendered frame in pixels.
    public let size: Int

    /// A renderer for square frames of `size` pixels (Galaxy Zoo cutouts are 424).
    public init(size: Int = 424) {
        precondition(size >= 16, "SyntheticGalaxyRenderer needs a frame of at least 16 pixels")
        self.size = size
    }

    /// Renders one image of `label`.
    /// - Parameters:
    ///   - label: one of `GalaxyLabels.standard`.
    ///   - seed: every random choice (shape, colour, noise, stars) follows from it.
    /// - Throws: `SynthError` with code `.unknownLabel` when `label` is not a standard label.
    public func render(label: String, seed: UInt64) throws(SynthError) -> RGBImage {
        guard let kind = GalaxyKind(label: label) else {
            throw SynthError(
                .unknownLabel,
                "unknown galaxy label '\(label)': use one of \(GalaxyLabels.standard.joined(separator: ", "))"
            )
        }
        return render(kind, seed: seed)
    }

    func render(_ kind: GalaxyKind, seed: UInt64) -> RGBImage {
        var scene = Scene(size: size, seed: seed)
        scene.drawGalaxy(kind)
        scene.drawForegroundStars()
        return scene.develop()
    }
}
