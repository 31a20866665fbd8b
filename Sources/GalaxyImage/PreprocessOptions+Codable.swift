import Foundation

/// The one recorded form of the preprocessing: a prediction's `preprocessing` column, the
/// `preprocessing` member of a model's metadata in `galaxy.models`, and what the web API reads back
/// for `input.png`. The model file itself carries the same options as its `galaxy.*` metadata
/// properties (`ModelMetadata`), read in one place.
///
/// `{"crop_fraction":0.26,"decode_scale":"1/4","size":50}` plus `mean` and `std` when the model
/// normalises. Reading is strict: a missing or out-of-range member is an error naming it, never a
/// silent default, so what is shown is what the model saw. `maxPixels` is a decoder limit, not part
/// of what the model saw, and is not recorded.
extension PreprocessOptions: Codable {
    enum CodingKeys: String, CodingKey {
        case cropFraction = "crop_fraction"
        case size
        case decodeScale = "decode_scale"
        case mean, std
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let scaleText = try container.decode(String.self, forKey: .decodeScale)
        guard let scale = DecodeScale(metadataValue: scaleText) else {
            throw DecodingError.dataCorruptedError(
                forKey: .decodeScale, in: container, debugDescription: "'\(scaleText)' is not 1, 1/2, 1/4 or 1/8")
        }
        self.init(
            cropFraction: try container.decode(Double.self, forKey: .cropFraction),
            size: try container.decode(Int.self, forKey: .size), decodeScale: scale,
            mean: try container.decodeIfPresent([Float].self, forKey: .mean),
            std: try container.decodeIfPresent([Float].self, forKey: .std))
        if let problem {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(cropFraction, forKey: .cropFraction)
        try container.encode(size, forKey: .size)
        try container.encode(decodeScale.metadataValue, forKey: .decodeScale)
        try container.encodeIfPresent(mean, forKey: .mean)
        try container.encodeIfPresent(std, forKey: .std)
    }

    /// The recorded form, keys sorted so the text is stable.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a struct of numbers and strings cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// Reads the recorded form.
    /// - Throws: `PreprocessRecordError` naming the member that is missing or wrong.
    public init(json: String) throws(PreprocessRecordError) {
        do {
            self = try JSONDecoder().decode(PreprocessOptions.self, from: Data(json.utf8))
        } catch let DecodingError.keyNotFound(key, _) {
            throw PreprocessRecordError(json: json, reason: "it has no '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let member = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw PreprocessRecordError(json: json, reason: "'\(member)' has the wrong type")
        } catch let DecodingError.dataCorrupted(context) {
            throw PreprocessRecordError(json: json, reason: context.debugDescription)
        } catch {
            throw PreprocessRecordError(json: json, reason: "\(error)")
        }
    }
}

/// A recorded preprocessing that cannot be read back.
public struct PreprocessRecordError: Error, CustomStringConvertible, Sendable, Hashable {
    public var json: String
    public var reason: String
    public var description: String {
        "the recorded preprocessing \(json.prefix(200)) cannot be used: \(reason)"
    }
}
