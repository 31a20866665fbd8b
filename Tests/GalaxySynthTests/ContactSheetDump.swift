import Foundation
import GalaxyCore
import GalaxySynth
import Testing

@Test func dumpSheet() throws {
    guard let dir = ProcessInfo.processInfo.environment["SYNTH_DUMP"] else { return }
    let renderer = SyntheticGalaxyRenderer(size: 424)
    for label in GalaxyLabels.standard {
        for s in 0..<4 {
            let img = try renderer.render(label: label, seed: UInt64(s * 100 + 7))
            var data = Data("P6\n\(img.width) \(img.height)\n255\n".utf8)
            data.append(contentsOf: img.pixels)
            try data.write(to: URL(fileURLWithPath: "\(dir)/\(label)_\(s).ppm"))
        }
    }
}
