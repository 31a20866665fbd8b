import Foundation
import GalaxyCore
import GalaxyImage
import GalaxySynth
import Testing

@Suite struct DatasetWriterTests {
    func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "galaxy-synth-\(UUID().uuidString)"
        return path
    }

    func files(in directory: String) throws -> [String: Data] {
        let images = (directory as NSString).appendingPathComponent("images")
        var result: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: images) {
            result[name] = try Data(
                contentsOf: URL(fileURLWithPath: (images as NSString).appendingPathComponent(name)))
        }
        result["catalog.csv"] = try Data(
            contentsOf: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("catalog.csv")))
        return result
    }

    @Test func sameSeedGivesSameBytesWhateverTheThreadCount() throws {
        let a = temporaryDirectory()
        let b = temporaryDirectory()
        let c = temporaryDirectory()
        defer { for d in [a, b, c] { try? FileManager.default.removeItem(atPath: d) } }
        let plan = SynthPlan(seed: 11, count: 20, size: 96)
        _ = try SyntheticDatasetWriter.write(plan: plan, to: a, threads: 1)
        _ = try SyntheticDatasetWriter.write(plan: plan, to: b, threads: 3)
        var other = plan
        other.seed = 12
        _ = try SyntheticDatasetWriter.write(plan: other, to: c, threads: 2)
        let filesA = try files(in: a)
        #expect(filesA.count == 21)
        #expect(filesA == (try files(in: b)))
        let filesC = try files(in: c)
        let same = filesA.keys.filter { $0 != "catalog.csv" && filesA[$0] == filesC[$0] }
        #expect(same.isEmpty, "images identical across seeds: \(same)")
    }

    @Test func catalogListsEveryImageWithAStandardLabel() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let summary = try SyntheticDatasetWriter.write(
            plan: SynthPlan(seed: 3, count: 30, firstID: 500, size: 64), to: dir, threads: 2)
        let text = try String(
            contentsOfFile: (dir as NSString).appendingPathComponent("catalog.csv"), encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.removeLast() == "", "catalog ends with a newline")
        #expect(lines.first == "id,specobjid,label")
        let rows = lines.dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(rows.count == 30)
        #expect(rows.allSatisfy { $0.count == 3 })
        #expect(rows.map { $0[0] } == (500..<530).map(String.init))
        let specobjids = rows.map { $0[1] }
        #expect(Set(specobjids).count == 30, "specobjids are unique")
        #expect(specobjids.allSatisfy { $0.count == 18 && Int64($0) != nil }, "\(specobjids.prefix(3))")
        #expect(Set(rows.map { $0[2] }) == Set(GalaxyLabels.standard), "every label appears")
        #expect(summary.labelCounts.values.allSatisfy { $0 >= 2 }, "balanced: \(summary.labelCounts)")
        for row in rows {
            let path = (dir as NSString).appendingPathComponent("images/\(row[0]).jpg")
            #expect(FileManager.default.fileExists(atPath: path), "missing \(path)")
        }
    }

    @Test func imagesDecodeToGalaxyZooCutouts() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plan = SynthPlan(seed: 2017, count: 13, qualityRange: 70...90)
        _ = try SyntheticDatasetWriter.write(plan: plan, to: dir, threads: 2)
        for index in 0..<13 {
            let item = plan.item(index)
            let jpeg = [UInt8](
                try Data(
                    contentsOf: URL(
                        fileURLWithPath: (dir as NSString).appendingPathComponent("images/\(item.id).jpg"))))
            let image = try JPEGDecoder.decodeRGB(jpeg: jpeg)
            #expect(image.width == 424 && image.height == 424, "\(item.id).jpg")
            #expect((70...90).contains(item.jpegQuality))
            // The frame is dark sky: the median pixel is near black.
            let lum = stride(from: 0, to: image.pixels.count, by: 3).map { Int(image.pixels[$0]) }.sorted()
            #expect(lum[lum.count / 2] < 40, "\(item.label): median red \(lum[lum.count / 2])")
        }
    }

    @Test func balancedBlocksHoldEachLabelOnceAndRealisticMixFavoursEllipticals() {
        let balanced = SynthPlan(seed: 5, count: 26)
        for block in 0..<2 {
            let labels = (0..<13).map { balanced.item(block * 13 + $0).label }
            #expect(labels.sorted() == GalaxyLabels.standard.sorted())
        }
        let realistic = SynthPlan(seed: 5, count: 2000, mix: .realistic)
        let labels = (0..<2000).map { realistic.item($0).label }
        let ellipticals = labels.filter { $0.hasPrefix("E") }.count
        let ambiguous = labels.filter { $0 == "A" }.count
        #expect(ellipticals > 550 && ellipticals < 850, "ellipticals \(ellipticals) of 2000")
        #expect(ambiguous > 40 && ambiguous < 140, "A \(ambiguous) of 2000")
        #expect(Set(labels) == Set(GalaxyLabels.standard))
    }

    @Test func invalidPlansAreRejectedBeforeWork() {
        #expect(throws: SynthError.self) { try SynthPlan(seed: 1, count: 0).validate() }
        #expect(throws: SynthError.self) { try SynthPlan(seed: 1, count: 5, qualityRange: 0...90).validate() }
    }
}
