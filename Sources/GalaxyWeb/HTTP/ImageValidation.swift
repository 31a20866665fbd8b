import Foundation
import GalaxyImage

/// Image work that needs the JPEG decoder. It runs on its own threads (one decoder each), never
/// on NIO's event loops or Swift's cooperative threads.
enum ImageValidation {
    private static let pool = BlockingPool<JPEGDecoder>(threads: 2, name: "galaxy-web-image") { JPEGDecoder() }

    /// Decodes every image once, so files the decoder refuses are rejected before anything is stored.
    /// - Throws: `APIError` 422 naming the file and the decoder's complaint.
    static func validate(_ images: [WebAPI.UploadedImage]) async throws {
        for image in images {
            let bytes = image.bytes
            let problem: String? = try await pool.run { decoder -> String? in
                do {
                    _ = try decoder.decodeRGB(jpeg: bytes, maxPixels: 50_000_000)
                    return nil
                } catch {
                    return "\(error)"
                }
            }
            if let problem {
                let what = image.name.map { "'\($0)'" } ?? "The request body"
                throw APIError(
                    .unprocessableContent, code: "invalid_jpeg",
                    "\(what) cannot be decoded as a JPEG image (\(problem)); upload an intact JPEG file.")
            }
        }
    }

    /// The crop the model sees, as a PNG, with the preprocessing recorded for the image (or the
    /// active model's).
    static func inputPNG(jpeg: [UInt8], preprocessingJSON: String) async throws -> [UInt8] {
        let options = preprocessOptions(json: preprocessingJSON)
        let result: Result<[UInt8], ImageError> = try await pool.run { _ -> Result<[UInt8], ImageError> in
            do throws(ImageError) {
                let rgb = try Preprocessor(options: options).preprocessedRGB(jpeg: jpeg)
                return .success(PNGEncoder.encode(rgb: rgb.pixels, width: rgb.width, height: rgb.height))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let png): return png
        case .failure(let error):
            throw APIError(.unprocessableContent, code: "invalid_jpeg", "The stored image cannot be preprocessed: \(error)")
        }
    }

    /// Reads `crop_fraction`, `size` (or the model metadata's `input_size`) and `decode_scale`;
    /// missing fields keep their defaults.
    static func preprocessOptions(json: String) -> PreprocessOptions {
        var options = PreprocessOptions()
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return options
        }
        if let crop = object["crop_fraction"] as? Double, crop > 0, crop < 0.5 { options.cropFraction = crop }
        if let size = (object["size"] ?? object["input_size"]) as? Int, (8...512).contains(size) { options.size = size }
        if let scale = (object["decode_scale"] as? String).flatMap(DecodeScale.init(metadataValue:)) {
            options.decodeScale = scale
        }
        return options
    }
}
