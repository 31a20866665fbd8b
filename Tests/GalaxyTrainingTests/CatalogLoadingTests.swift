import Foundation
import GalaxyCore
import GalaxyImage
import GalaxyTraining
import Testing

/// `TrainingData.loadDirectory` and `TrainingData.load` on temporary data directories.
@Suite struct CatalogLoadingTests {
    /// A temporary data directory with `images/<name>` JPEGs and the given catalog text.
    final class DataDirectory {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "galaxy-catalog-\(UUID().uuidString)")
        var catalog: String { url.appendingPathComponent("catalog.csv").path }

        init(catalog text: String, images: [String]) throws {
            try FileManager.default.createDirectory(
                at: url.appendingPathComponent("images"), withIntermediateDirectories: true)
            for (i, name) in images.enumerated() {
                let rgb = (0..<(8 * 8 * 3)).map { UInt8(truncatingIfNeeded: $0 * 5 + i) }
                try Data(try JPEGEncoder.encode(rgb: rgb, width: 8, height: 8, quality: 80))
                    .write(to: url.appendingPathComponent("images/\(name)"))
            }
            try Data(text.utf8).write(to: url.appendingPathComponent("catalog.csv"))
        }

        deinit { try? FileManager.default.removeItem(at: url) }
    }

    private func catalogError(_ body: () throws -> Void) -> (path: String, line: Int?, reason: String)? {
        do { try body() } catch let TrainingError.catalog(path, line, reason) {
            return (path, line, reason)
        } catch {
            Issue.record("expected TrainingError.catalog, got \(error)")
            return nil
        }
        Issue.record("expected TrainingError.catalog, got no error")
        return nil
    }

    @Test func readsIdsLabelsOriginsAndBytes() throws {
        let d = try DataDirectory(
            catalog: "id,specobjid,label\r\n1,11,Sb\r\n2,12,\"Sa|Sb\"\r\n3,13,\r\n",
            images: ["1.jpg", "2.jpg", "3.jpg"])
        let images = try TrainingData.loadDirectory(d.url)
        #expect(images.map(\.id) == ["1", "2"])  // row 3 is unlabelled
        #expect(images.map(\.label) == ["Sb", "Sa|Sb"])
        #expect(images.map(\.origin) == ["\(d.catalog) line 2", "\(d.catalog) line 3"])
        #expect(images[0].source == d.url.appendingPathComponent("images/1.jpg").path)
        #expect(images[0].jpeg == Array(try Data(contentsOf: d.url.appendingPathComponent("images/1.jpg"))))
        #expect(images.allSatisfy { $0.probabilities.isEmpty && $0.dataSource == 0 })
    }

    @Test func quotedLabelWithACommaIsRefusedAsUnknownWithItsLine() throws {
        let d = try DataDirectory(catalog: "id,label\n1,Sa\n2,\"Sb, barred\"\n", images: ["1.jpg", "2.jpg"])
        let images = try TrainingData.loadDirectory(d.url)
        #expect(images[1].label == "Sb, barred")  // read whole, not truncated to Sb
        let parser = TargetParser(vocabulary: .standard)
        #expect(try images[0].target(using: parser) == .label(LabelVocabulary.standard.index(of: "Sa")!))
        #expect(throws: TrainingError.self) { try images[1].target(using: parser) }
        do {
            _ = try images[1].target(using: parser)
        } catch {
            #expect(error.description.hasPrefix("\(d.catalog) line 3: label 'Sb, barred' is neither"))
        }
    }

    @Test func unknownLabelNamesTheFileAndLine() throws {
        let d = try DataDirectory(catalog: "id,label\n1,Sa\n2,Merger\n", images: ["1.jpg", "2.jpg"])
        let images = try TrainingData.loadDirectory(d.url)
        do {
            _ = try images.map { try $0.target(using: TargetParser(vocabulary: .standard)) }
            Issue.record("Merger is not a standard label")
        } catch {
            #expect("\(error)".hasPrefix("\(d.catalog) line 3: label 'Merger'"))
        }
    }

    @Test func probabilityColumnsGiveANormalisedDistribution() throws {
        let d = try DataDirectory(
            catalog: "id,label,p_Er,p_Sb,P_SBB\n1,,0.6,0.2,\n2,Sa,,,\n3,,,,\n4,Sb,1,3,0\n",
            images: ["1.jpg", "2.jpg", "3.jpg", "4.jpg"])
        let images = try TrainingData.loadDirectory(d.url)
        #expect(images.map(\.id) == ["1", "2", "4"])  // 3 has neither label nor fractions
        #expect(images[0].probabilities == ["Er": 0.6, "Sb": 0.2, "SBB": 0])
        #expect(images[1].probabilities.isEmpty)
        // Vote columns name labels as the vocabulary spells them (P_SBB is label SBB).
        let vocabulary = try LabelVocabulary(labels: ["Er", "Sb", "SBB"])
        let parser = TargetParser(vocabulary: vocabulary)
        guard case .distribution(let p)? = try images[0].target(using: parser) else {
            Issue.record("expected a distribution")
            return
        }
        #expect(abs(p[0] - 0.75) < 1e-6 && abs(p[1] - 0.25) < 1e-6 && p[2] == 0)
        // Fractions win over the label when a row has both.
        #expect(try images[2].target(using: parser) == .distribution([0.25, 0.75, 0]))
    }

    @Test func aVoteFractionThatIsNotANumberNamesLineAndColumn() throws {
        let d = try DataDirectory(
            catalog: "id,label,p_Er\n1,Er,0.5\n2,Er,lots\n", images: ["1.jpg", "2.jpg"])
        let error = catalogError { _ = try TrainingData.loadDirectory(d.url) }
        #expect(error?.path == d.catalog)
        #expect(error?.line == 3)
        #expect(error?.reason.contains("column 'p_Er' holds 'lots'") == true)
    }

    @Test func renamedLabelColumnAndFileColumnWithIdFromTheFileName() throws {
        let d = try DataDirectory(
            catalog: "objid,gz1_name,file\n7,Er,images/a.jpg\n8,Spiral,images/b.jpg\n",
            images: ["a.jpg", "b.jpg"])
        #expect(
            catalogError { _ = try TrainingData.loadDirectory(d.url) }?.reason.contains("no 'label' column")
                == true)
        let images = try TrainingData.loadDirectory(d.url, options: CatalogOptions(labelColumn: "gz1_name"))
        #expect(images.map(\.label) == ["Er", "Spiral"])
        #expect(images.map(\.id) == ["a", "b"])  // no `id` column: the file stem
        let spiral = try images[1].target(using: TargetParser(vocabulary: .standard))
        #expect(
            spiral?.allowedLabels.map { LabelVocabulary.standard.labels[$0] } == [
                "Sa", "Sb", "Sc", "Sd", "Se",
            ])
    }

    @Test func badCSVAndMissingImagesNameTheLine() throws {
        let unterminated = try DataDirectory(catalog: "id,label\n1,Sa\n2,\"Sb\n", images: ["1.jpg"])
        let e1 = catalogError { _ = try TrainingData.loadDirectory(unterminated.url) }
        #expect(e1?.line == 3 && e1?.reason.contains("never closed") == true)

        let unquoted = try DataDirectory(catalog: "id,label\n1,Sb, barred\n", images: ["1.jpg"])
        let e2 = catalogError { _ = try TrainingData.loadDirectory(unquoted.url) }
        #expect(e2?.line == 2 && e2?.reason.contains("expected 2 fields") == true)

        let missing = try DataDirectory(catalog: "id,label\n1,Sa\n\n2,Sb\n", images: ["1.jpg"])
        let e3 = #expect(throws: TrainingError.self) { try TrainingData.loadDirectory(missing.url) }
        guard case .image(let path, let reason)? = e3 else {
            Issue.record("expected TrainingError.image, got \(String(describing: e3))")
            return
        }
        #expect(path.hasSuffix("images/2.jpg") && reason.contains("line 4 of \(missing.catalog)"))

        let none = FileManager.default.temporaryDirectory.appendingPathComponent(
            "galaxy-no-such-\(UUID().uuidString)")
        #expect(
            catalogError { _ = try TrainingData.loadDirectory(none) }?.reason.contains("no such file") == true
        )
    }

    @Test func severalSourcesAreLoadedInOrderAndStamped() throws {
        let a = try DataDirectory(catalog: "id,label\n1,Sa\n2,Er\n", images: ["1.jpg", "2.jpg"])
        let b = try DataDirectory(catalog: "file,gz1_name\nimages/x.jpg,Elliptical\n", images: ["x.jpg"])
        let sources = [
            try DataSource(argument: a.url.path),
            try DataSource(argument: "db:weight=0.5"),
            try DataSource(argument: b.url.path + ":weight=2:label-column=gz1_name"),
        ]
        var asked: [DataSource] = []
        let images = try TrainingData.load(sources) { source in
            asked.append(source)
            return [
                LabeledImage(
                    source: "galaxy.images id 9", origin: "galaxy.images id 9", id: "9", label: "Sc", jpeg: []
                )
            ]
        }
        #expect(asked == [sources[1]])
        #expect(images.map(\.id) == ["1", "2", "9", "x"])
        #expect(images.map(\.dataSource) == [0, 0, 1, 2])
        #expect(images.map(\.label) == ["Sa", "Er", "Sc", "Elliptical"])
    }

    @Test func aSourceWithoutLabelledImagesIsAnError() throws {
        let empty = try DataDirectory(catalog: "id,label\n1,\n", images: ["1.jpg"])
        let error = #expect(throws: TrainingError.self) {
            try TrainingData.load([try DataSource(argument: empty.url.path)]) { _ in [] }
        }
        guard case .noData(let what)? = error else {
            Issue.record("expected TrainingError.noData, got \(String(describing: error))")
            return
        }
        #expect(what.contains(empty.url.path))
    }
}
