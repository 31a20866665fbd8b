import Foundation
import GalaxyEngine
import GalaxyImage
import GalaxyPostgres
import GalaxyService
import GalaxyTestSupport
import Testing

/// `galaxy model add --precision bf16` against a real server: the accuracy guard refuses a variant
/// that changes decisions and stores one that agrees, whose predictions record bf16; a bf16 model
/// without a passing check is refused by the daemon like any invalid model.
@Suite(.serialized) struct PrecisionVariantTests {
    /// Mid-grey JPEGs labelled Spiral (what the fp32 sensitive model says), as a data set folder.
    static func greyDataSet() throws -> String {
        let dir = NSTemporaryDirectory() + "/galaxy-precision-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
        var catalog = "id,label\n"
        for i in 0..<12 {
            let value = UInt8(120 + 3 * i)
            let jpeg = try JPEGEncoder.encode(rgb: [UInt8](repeating: value, count: 32 * 32 * 3), width: 32, height: 32, quality: 95)
            try Data(jpeg).write(to: URL(fileURLWithPath: "\(dir)/images/\(i).jpg"))
            catalog += "\(i),Spiral\n"
        }
        try Data(catalog.utf8).write(to: URL(fileURLWithPath: dir + "/catalog.csv"))
        return dir
    }

    static func modelFile(spiralBias: Float) throws -> String {
        let path = NSTemporaryDirectory() + "/galaxy-precision-\(UUID().uuidString.prefix(8)).onnx"
        try Data(TestModels.precisionSensitive(spiralBias: spiralBias)).write(to: URL(fileURLWithPath: path))
        return path
    }

    func add(_ f: ServiceFixture, _ name: String, _ file: String, _ extra: [String]) throws -> (status: Int32, output: String, error: String) {
        try ChildProcess.run(
            ServiceFixture.galaxyBinary.path, ["model", "add", name, file, "--database", f.conninfo, "--activate"] + extra,
            timeout: 300)
    }

    @Test func aVariantThatChangesDecisionsIsRefusedAndNothingIsAdded() throws {
        let f = try ServiceFixture(prefix: "precision_refused")
        let data = try Self.greyDataSet()
        let result = try add(f, "sensitive-bf16", try Self.modelFile(spiralBias: 0.01), ["--precision", "bf16", "--check-data", data])
        #expect(result.status != 0)
        #expect(result.error.contains("the bf16 variant of") && result.error.contains("is refused"), "\(result.error)")
        #expect(result.error.contains("high-level class agreement with fp32 0.00% < 99.50%"), "\(result.error)")
        #expect(try f.scalar("select count(*) from galaxy.models", as: Int64.self) == 0)
        // Without images to check on, the option is refused before anything runs.
        let unchecked = try add(f, "x", try Self.modelFile(spiralBias: 1), ["--precision", "bf16"])
        #expect(unchecked.status != 0 && unchecked.error.contains("--check-data"), "\(unchecked.error)")
    }

    @Test func aVariantThatAgreesIsStoredAndItsPredictionsRecordBF16() throws {
        let f = try ServiceFixture(prefix: "precision_kept")
        let data = try Self.greyDataSet()
        let result = try add(f, "steady-bf16", try Self.modelFile(spiralBias: 1), ["--precision", "bf16", "--check-data", data])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("bf16)"), "\(result.output)")
        #expect(try f.scalar("select metadata->>'precision' from galaxy.models where name = 'steady-bf16'", as: String.self) == "bf16")
        #expect(
            try f.scalar("select (metadata->'precision_check'->>'high_level_agreement')::float8 from galaxy.models", as: Double.self) == 1)
        let daemon = f.startDaemon()
        let id = try f.insertImages(count: 1)[0]
        #expect(try f.scalar("select predict_galaxy(\(id))", as: String.self) == "Spiral")
        #expect(try f.scalar("select precision from galaxy.predictions where image_id = \(id)", as: String.self) == "bf16")
        #expect(try f.scalar("select precision from galaxy.prediction(\(id))", as: String.self) == "bf16")
        #expect(daemon.stop())
    }

    @Test func theCheckCanReadTheLabelledRowsOfTheDatabase() throws {
        let f = try ServiceFixture(prefix: "precision_db")
        let data = try Self.greyDataSet()
        for i in 0..<12 {
            let jpeg = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(data)/images/\(i).jpg")))
            _ = try f.db.execute("insert into galaxy.images (file_name, jpeg, label) values (\("\(i).jpg"), \(jpeg), 'Spiral')")
        }
        let refused = try add(f, "sensitive-bf16", try Self.modelFile(spiralBias: 0.01), ["--precision", "bf16", "--check-from-db"])
        #expect(refused.status != 0 && refused.error.contains("galaxy.images (--check-from-db)"), "\(refused.error)")
        #expect(try f.scalar("select count(*) from galaxy.models", as: Int64.self) == 0)
        let kept = try add(f, "steady-bf16", try Self.modelFile(spiralBias: 1), ["--precision", "bf16", "--check-from-db"])
        #expect(kept.status == 0, "\(kept.error)")
        #expect(try f.scalar("select metadata->'precision_check'->>'images' from galaxy.models", as: String.self) == "12")
    }

    @Test func aCheckedVariantFileClassifiesAndAnUncheckedOneIsRefused() throws {
        let galaxy = ServiceFixture.galaxyBinary.path
        let data = try Self.greyDataSet()
        let variant = NSTemporaryDirectory() + "/galaxy-variant-\(UUID().uuidString.prefix(8)).onnx"
        let refused = try ChildProcess.run(
            galaxy, ["model", "variant", try Self.modelFile(spiralBias: 0.01), "--out", variant, "--precision", "bf16", "--check-data", data])
        #expect(refused.status == 1 && refused.error.contains("is refused"), "\(refused.error)")
        #expect(!FileManager.default.fileExists(atPath: variant))
        let kept = try ChildProcess.run(
            galaxy, ["model", "variant", try Self.modelFile(spiralBias: 1), "--out", variant, "--precision", "bf16", "--check-data", data])
        #expect(kept.status == 0, "\(kept.error)")
        let image = data + "/images/0.jpg"
        let classified = try ChildProcess.run(galaxy, ["classify", image, "--model", variant, "--json"])
        #expect(classified.status == 0 && classified.output.contains("\"class\":\"Spiral\""), "\(classified.output) \(classified.error)")
        #expect(classified.error.contains("bf16"), "\(classified.error)")
        let unchecked = NSTemporaryDirectory() + "/galaxy-unchecked-\(UUID().uuidString.prefix(8)).onnx"
        try Data(ONNX.appendingMetadata([.init(key: ModelMetadata.Key.precision, value: "bf16")], to: TestModels.precisionSensitive(spiralBias: 1)))
            .write(to: URL(fileURLWithPath: unchecked))
        let uncheckedRun = try ChildProcess.run(galaxy, ["classify", image, "--model", unchecked])
        #expect(uncheckedRun.status != 0 && uncheckedRun.error.contains("carries no accuracy check"), "\(uncheckedRun.error)")
    }

    @Test func aBF16ModelWithoutACheckIsRejectedAndThePreviousStaysActive() throws {
        let f = try ServiceFixture(prefix: "precision_unchecked")
        let good = try f.addModel("good", TestModels.constant(label: "Sb"))
        let unchecked = ONNX.appendingMetadata(
            [.init(key: ModelMetadata.Key.precision, value: "bf16")], to: TestModels.precisionSensitive(spiralBias: 1))
        #expect {
            _ = try ModelValidation.validate(onnx: unchecked)
        } throws: { error in "\(error)".contains("carries no accuracy check") }
        let daemon = f.startDaemon()
        let bad = try f.scalar("select galaxy.add_model('unchecked', \(unchecked), true)", as: Int64.self)
        #expect(try eventually { try f.scalar("select status from galaxy.models where id = \(bad)", as: String.self) == "rejected" })
        #expect(try f.scalar("select error from galaxy.models where id = \(bad)", as: String.self).contains("accuracy check"))
        #expect(try f.scalar("select id from galaxy.models where active", as: Int64.self) == good)
        let id = try f.insertImages(count: 1)[0]
        #expect(try f.scalar("select predict_galaxy(\(id))", as: String.self) == "Spiral")
        #expect(try f.scalar("select precision from galaxy.predictions where image_id = \(id)", as: String.self) == "fp32")
        #expect(daemon.stop())
    }
}
