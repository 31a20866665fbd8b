// TEMPORARY: replaced by the augmentation and split modules when they land.
import GalaxyImage
public struct AugmentationSettings: Sendable, Hashable, Codable, CustomStringConvertible {
    public var description: String { "none" }
}
struct AugmentationFrame {
    init(jpeg: [UInt8], options: PreprocessOptions) throws(ImageError) {}
}
final class Augmenter {
    init(settings: AugmentationSettings, options: PreprocessOptions) {}
    func render(_ frame: AugmentationFrame, seed: UInt64, into output: UnsafeMutablePointer<Float>) {}
}
public enum HashSplit {
    public static func isHeldOut(id: String, fraction: Double) -> Bool { false }
}
