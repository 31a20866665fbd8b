import GalaxyEngine
import GalaxyImage
import GalaxyTestSupport
import Testing

@testable import GalaxyTraining

/// The accuracy guard keeps a bf16 variant that agrees with fp32 and refuses one that does not.
@Suite struct PrecisionCheckTests {
    /// Mid-grey 32x32 JPEGs (values 120..160), labelled as the fp32 model sees them.
    static func greyImages(label: String, count: Int = 20) throws -> [LabeledImage] {
        try (0..<count).map { i in
            let value = UInt8(120 + 2 * i)
            let jpeg = try JPEGEncoder.encode(rgb: [UInt8](repeating: value, count: 32 * 32 * 3), width: 32, height: 32, quality: 95)
            return LabeledImage(source: "grey-\(value)", label: label, jpeg: jpeg)
        }
    }

    static func models(spiralBias: Float) throws -> (InferenceModel, InferenceModel) {
        let proto = try ONNX.ModelProto(serialized: TestModels.precisionSensitive(spiralBias: spiralBias))
        return (try InferenceModel(model: proto, precision: .fp32), try InferenceModel(model: proto, precision: .bf16))
    }

    @Test func aVariantThatChangesDecisionsIsRefused() throws {
        let (fp32, bf16) = try Self.models(spiralBias: 0.01)
        let report = try PrecisionCheck.run(
            original: fp32, variant: bf16, images: try Self.greyImages(label: "Spiral"), source: "grey", threads: 2)
        #expect(report.images == 20)
        #expect(report.highLevelAgreement < 0.5 && report.lowLevelAgreement < 0.5)
        #expect(report.fp32HighLevelAccuracy == 1 && report.variantHighLevelAccuracy < 0.5)
        #expect(!report.passed)
        #expect(report.shortfalls.count == 3, "\(report.shortfalls)")
        #expect(report.shortfalls[0].contains("high-level class agreement"))
        #expect(report.shortfalls[2].contains("high-level accuracy drops"))
        // A report that failed never lets the variant load as a served model.
        var metadata = bf16.metadata
        metadata.precisionCheck = report.json
        #expect(throws: ModelError.self) { try metadata.requireCheckedPrecision() }
    }

    @Test func aVariantThatAgreesIsKeptWithItsReport() throws {
        let (fp32, bf16) = try Self.models(spiralBias: 1)
        let report = try PrecisionCheck.run(
            original: fp32, variant: bf16, images: try Self.greyImages(label: "Spiral"), source: "grey", threads: 1)
        #expect(report.passed && report.highLevelAgreement == 1 && report.lowLevelAgreement == 1)
        #expect(try PrecisionCheckReport(json: report.json) == report)
        var metadata = bf16.metadata
        #expect(throws: ModelError.self) { try metadata.requireCheckedPrecision() }  // no report yet
        metadata.precisionCheck = report.json
        try metadata.requireCheckedPrecision()
        metadata.precision = .fp32
        try metadata.requireCheckedPrecision()
    }

    @Test func anAccuracyDropAloneIsRefused() {
        let report = PrecisionCheckReport(
            precision: .bf16, images: 1000, source: "t", highLevelAgreement: 0.996, lowLevelAgreement: 0.99,
            fp32HighLevelAccuracy: 0.870, variantHighLevelAccuracy: 0.866, minimumHighLevelAgreement: 0.995,
            minimumLowLevelAgreement: 0.98, maximumAccuracyDrop: 0.003, cpu: "test")
        #expect(report.shortfalls == ["high-level accuracy drops by 0.40 points (87.00% -> 86.60%) > 0.30"])
    }
}
