import Foundation

/// What a reduced-precision variant showed against its fp32 original on labelled held-out images
/// (`galaxy model add --precision`), kept in the variant's metadata as `galaxy.precision_check`.
/// A variant is only served with a report that passed.
public struct PrecisionCheckReport: Sendable, Codable, Equatable {
    /// The variant's precision.
    public var precision: Precision
    /// Images both models classified.
    public var images: Int
    /// Where they came from (a folder and its held-out fraction, or the database).
    public var source: String
    /// Share of images whose high-level class is the same under both.
    public var highLevelAgreement: Double
    /// Share of images whose low-level label is the same under both.
    public var lowLevelAgreement: Double
    /// High-level accuracy against the labels, fp32 and variant.
    public var fp32HighLevelAccuracy: Double
    public var variantHighLevelAccuracy: Double
    /// The thresholds it was held to.
    public var minimumHighLevelAgreement: Double
    public var minimumLowLevelAgreement: Double
    public var maximumAccuracyDrop: Double
    /// The CPU the check ran on.
    public var cpu: String

    public init(
        precision: Precision, images: Int, source: String, highLevelAgreement: Double, lowLevelAgreement: Double,
        fp32HighLevelAccuracy: Double, variantHighLevelAccuracy: Double, minimumHighLevelAgreement: Double,
        minimumLowLevelAgreement: Double, maximumAccuracyDrop: Double, cpu: String
    ) {
        self.precision = precision
        self.images = images
        self.source = source
        self.highLevelAgreement = highLevelAgreement
        self.lowLevelAgreement = lowLevelAgreement
        self.fp32HighLevelAccuracy = fp32HighLevelAccuracy
        self.variantHighLevelAccuracy = variantHighLevelAccuracy
        self.minimumHighLevelAgreement = minimumHighLevelAgreement
        self.minimumLowLevelAgreement = minimumLowLevelAgreement
        self.maximumAccuracyDrop = maximumAccuracyDrop
        self.cpu = cpu
    }

    /// Why the variant must be refused; empty when it passed.
    public var shortfalls: [String] {
        func pct(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }
        var out: [String] = []
        if images == 0 { out.append("no image could be classified") }
        if highLevelAgreement < minimumHighLevelAgreement {
            out.append("high-level class agreement with fp32 \(pct(highLevelAgreement)) < \(pct(minimumHighLevelAgreement))")
        }
        if lowLevelAgreement < minimumLowLevelAgreement {
            out.append("low-level label agreement with fp32 \(pct(lowLevelAgreement)) < \(pct(minimumLowLevelAgreement))")
        }
        let drop = fp32HighLevelAccuracy - variantHighLevelAccuracy
        if drop > maximumAccuracyDrop {
            out.append(
                "high-level accuracy drops by \(String(format: "%.2f", 100 * drop)) points (\(pct(fp32HighLevelAccuracy)) -> "
                    + "\(pct(variantHighLevelAccuracy))) > \(String(format: "%.2f", 100 * maximumAccuracyDrop))")
        }
        return out
    }

    public var passed: Bool { shortfalls.isEmpty }

    /// The report as one line of JSON (keys sorted), as stored in the model's metadata.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Reads a stored report.
    /// - Throws: `ModelError` (`.invalidMetadata`) when the text is not such a report.
    public init(json: String) throws(ModelError) {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            self = try decoder.decode(PrecisionCheckReport.self, from: Data(json.utf8))
        } catch {
            throw ModelError(
                .invalidMetadata, "metadata_props '\(ModelMetadata.Key.precisionCheck)' is not an accuracy check report: \(error)")
        }
    }
}

extension ModelMetadata {
    /// Refuses a reduced-precision model that carries no passing accuracy check for its precision,
    /// so that only variants made by `galaxy model add --precision` are served.
    /// - Throws: `ModelError` (`.invalidMetadata`) saying what is missing and how to make the variant.
    public func requireCheckedPrecision() throws(ModelError) {
        guard precision != .fp32 else { return }
        let how = "add the fp32 model with 'galaxy model add NAME FILE --precision \(precision.rawValue) --check-data DIR' (or --check-from-db)"
        guard let precisionCheck else {
            throw ModelError(.invalidMetadata, "the model asks for \(precision.rawValue) products but carries no accuracy check; \(how)")
        }
        let report = try PrecisionCheckReport(json: precisionCheck)
        guard report.precision == precision else {
            throw ModelError(
                .invalidMetadata, "the accuracy check is for \(report.precision.rawValue), but the model asks for \(precision.rawValue); \(how)")
        }
        guard report.passed else {
            throw ModelError(
                .invalidMetadata, "the \(precision.rawValue) variant failed its accuracy check (\(report.shortfalls.joined(separator: "; "))); keep the fp32 model")
        }
    }
}
