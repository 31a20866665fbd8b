import Foundation
import Testing

@testable import GalaxyImage

/// `galaxy preprocess`: the library run in-process, and the built command's exit status.
@Suite struct PreprocessFilesTests {
    /// A directory with two good JPEGs (one in a subdirectory), a corrupt one and a text file.
    static func makeInput() throws -> URL {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("galaxy-preprocess-test-\(UUID().uuidString)")
        let input = root.appendingPathComponent("in")
        try FileManager.default.createDirectory(
            at: input.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let rgb = Fixtures.galaxy(width: 120, height: 100)
        let jpeg = try JPEGEncoder.encode(rgb: rgb, width: 120, height: 100, quality: 90)
        try Data(jpeg).write(to: input.appendingPathComponent("a.jpg"))
        try Data(jpeg).write(to: input.appendingPathComponent("sub/b.JPEG"))
        try Data(jpeg.prefix(500)).write(to: input.appendingPathComponent("cut.jpg"))
        try Data("notes".utf8).write(to: input.appendingPathComponent("readme.txt"))
        return root
    }

    @Test func writesEveryAngleAndReportsTheBadFile() throws {
        let root = try Self.makeInput()
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in")
        let output = root.appendingPathComponent("out")
        let files = try PreprocessFiles.jpegFiles(at: input)
        #expect(files.map(\.lastPathComponent) == ["a.jpg", "cut.jpg", "b.JPEG"])
        let job = PreprocessFiles(
            files: files, inputRoot: input, outputDirectory: output, angles: [0, 45, 90],
            options: PreprocessOptions(size: 32), threads: 2)
        let summary = job.run()
        #expect(summary.files == 3 && summary.written == 6)
        #expect(summary.failures.count == 1)
        #expect(summary.failures.first?.file.hasSuffix("cut.jpg") == true)
        #expect(summary.failures.first?.reason.contains("truncated") == true)
        for angle in ["0", "45", "90"] {
            for name in ["a.png", "sub/b.png"] {
                let png = try Data(
                    contentsOf: output.appendingPathComponent(angle).appendingPathComponent(name))
                #expect(Array(png.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
            }
        }
        // The PNG holds exactly the quantised tensor.
        let jpeg = [UInt8](try Data(contentsOf: input.appendingPathComponent("a.jpg")))
        let expected = try Preprocessor(options: PreprocessOptions(size: 32)).preprocessedRGB(
            jpeg: jpeg, rotationDegrees: 45)
        let png = [UInt8](try Data(contentsOf: output.appendingPathComponent("45/a.png")))
        #expect(png == PNGEncoder.encode(rgb: expected.pixels, width: 32, height: 32))
    }

    @Test func floatFormatWritesTheTensor() throws {
        let root = try Self.makeInput()
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in/a.jpg")
        let job = PreprocessFiles(
            files: [input], inputRoot: nil, outputDirectory: root.appendingPathComponent("out"),
            format: .f32, threads: 1)
        #expect(job.run().failures.isEmpty)
        let bytes = try Data(contentsOf: root.appendingPathComponent("out/0/a.f32"))
        let floats = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(floats == (try Preprocessor().preprocess(jpeg: [UInt8](try Data(contentsOf: input)))))
    }

    @Test func angleNamesAreReadable() {
        #expect(PreprocessFiles.angleName(0) == "0")
        #expect(PreprocessFiles.angleName(45) == "45")
        #expect(PreprocessFiles.angleName(22.5) == "22.5")
        #expect(PreprocessFiles.angleName(-90) == "-90")
    }

    /// The built `galaxy` next to this test bundle (`swift build --build-tests` builds both).
    static var galaxyBinary: URL? {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for directory in [bundle, bundle.deletingLastPathComponent()] {
            let candidate = directory.appendingPathComponent("galaxy")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    @Test func commandExitsNonZeroWhenAFileFails() throws {
        guard let binary = Self.galaxyBinary else {
            Issue.record(
                "the galaxy executable was not built next to the tests (run swift build --build-tests)")
            return
        }
        let root = try Self.makeInput()
        defer { try? FileManager.default.removeItem(at: root) }
        func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
            let process = Process()
            process.executableURL = binary
            process.arguments = arguments
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, output, errors)
        }
        let input = root.appendingPathComponent("in").path
        let withBadFile = try run([
            "preprocess", input, root.appendingPathComponent("out").path, "--angles", "0,90", "--size", "24",
        ])
        #expect(withBadFile.status == 1)
        #expect(withBadFile.output.contains("preprocessed 2 of 3 files"))
        #expect(withBadFile.errors.contains("cut.jpg"))
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("out/90/sub/b.png").path))

        let good = try run(["preprocess", input + "/a.jpg", root.appendingPathComponent("out2").path])
        #expect(good.status == 0, "\(good.errors)")
        let invalid = try run([
            "preprocess", input, root.appendingPathComponent("out3").path, "--angles", "zero",
        ])
        #expect(invalid.status != 0 && invalid.errors.contains("--angles"))
    }
}
