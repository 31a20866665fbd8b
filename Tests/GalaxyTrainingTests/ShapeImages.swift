import Foundation
import GalaxyImage

@testable import GalaxyTraining

/// Small labelled JPEGs whose class is visible at any rotation: empty sky (A), a round blob (Er),
/// a ring (Sa) and a bar at a random angle (SBa), with noise and random position and brightness.
enum ShapeImages {
    static let labels = ["A", "Er", "Sa", "SBa"]

    static func make(perLabel: Int, seed: UInt64, side: Int = 160) throws -> [LabeledImage] {
        var rng = SeededGenerator(seed: seed)
        var images: [LabeledImage] = []
        for n in 0..<perLabel {
            for (k, label) in labels.enumerated() {
                var rgb = [UInt8](repeating: 0, count: side * side * 3)
                let cx = Double(side) / 2 + (rng.nextUnit() - 0.5) * 6
                let cy = Double(side) / 2 + (rng.nextUnit() - 0.5) * 6
                let brightness = 140 + rng.nextUnit() * 100
                let angle = rng.nextUnit() * Double.pi
                let scale = 0.8 + rng.nextUnit() * 0.4
                for y in 0..<side {
                    for x in 0..<side {
                        let dx = Double(x) - cx
                        let dy = Double(y) - cy
                        let r = (dx * dx + dy * dy).squareRoot() / scale
                        var v: Double
                        switch k {
                        case 0: v = 0
                        case 1: v = exp(-r * r / 60)
                        case 2: v = exp(-(r - 13) * (r - 13) / 6)
                        default:
                            let along = (dx * cos(angle) + dy * sin(angle)) / scale
                            let across = (-dx * sin(angle) + dy * cos(angle)) / scale
                            v = abs(along) < 16 ? exp(-across * across / 5) : 0
                        }
                        let value = 15 + brightness * v + (rng.nextUnit() - 0.5) * 30
                        let byte = UInt8(max(0, min(255, value)))
                        let i = (y * side + x) * 3
                        rgb[i] = byte
                        rgb[i + 1] = byte
                        rgb[i + 2] = UInt8(max(0, min(255, value * 0.9)))
                    }
                }
                let jpeg = try JPEGEncoder.encode(rgb: rgb, width: side, height: side, quality: 90)
                images.append(LabeledImage(source: "shape-\(label)-\(n)", label: label, jpeg: jpeg))
            }
        }
        return images
    }
}
