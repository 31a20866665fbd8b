import Foundation
import GalaxyImage

/// Image work that needs the JPEG decoder. It runs on its own threads (one decoder each), never
/// on NIO's event loops or Swift's cooperative threads.
enum ImageValidation {
    private static let pool = BlockingPool<JPEGValidator>(threads: 2, name: "galaxy-web-image") { JPEGValidator() }

    /// Checks every image with the one JPEG validator, decoding it fully, so a file the scorer
    /// would refuse is refused before anything is stored.
    /// - Throws: `APIError` naming the file and what is wrong with it.
    static func validate(_ images: [WebAPI.UploadedImage]) async throws {
        for image in images {
            let bytes = image.bytes
            let problem: ImageError? = try await pool.run { validator -> ImageError? in
                do throws(ImageError) {
                    try validator.validate(bytes, depth: .decode)
                    return nil
                } catch {
                    return error
                }
            }
            if let problem { throw refusal(problem, name: image.name) }
        }
    }

    /// The JSON error for a refused image: the validator's code decides the status.
    static func refusal(_ error: ImageError, name: String?) -> APIError {
        let what = name.map { "'\($0)'" } ?? "The request body"
        switch error.code {
        case .empty:
            return APIError(.badRequest, code: "empty_body", "\(what) is empty; send the bytes of a JPEG file.")
        case .notJPEG:
            return APIError(
                .unsupportedMediaType, code: "not_jpeg",
                "\(what) is not a JPEG file (\(error.message)); only JPEG images are accepted.")
        case .truncated:
            return APIError(
                .unprocessableContent, code: "truncated_jpeg",
                "\(what) is a truncated JPEG file (\(error.message)); upload the complete file.")
        case .unsupported, .tooLarge, .corrupt:
            return APIError(
                .unprocessableContent, code: "invalid_jpeg",
                "\(what) cannot be decoded as a JPEG image (\(error)); upload an intact JPEG file.")
        }
    }

    /// The crop the model sees, as a PNG, with the preprocessing recorded for the image (or the
    /// active model's), read strictly: a record that cannot be read is an error, not a default.
    static func inputPNG(jpeg: [UInt8], preprocessingJSON: String) async throws -> [UInt8] {
        let options: PreprocessOptions
        do {
            options = try PreprocessOptions(json: preprocessingJSON)
        } catch {
            throw APIError(.internalServerError, code: "invalid_preprocessing", "\(error)")
        }
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
}
