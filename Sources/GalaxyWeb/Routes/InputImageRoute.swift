import Foundation
import Hummingbird

extension WebAPI {
    /// `GET /v1/images/{id}/input.png`: the crop the model sees, as an RGB PNG.
    func inputPNG(id: Int64) async throws -> Response {
        guard let (jpeg, preprocessing) = try await store.jpegAndPreprocessing(imageID: id) else {
            throw APIError.notFound("Image \(id)")
        }
        let png = try await ImageValidation.inputPNG(jpeg: jpeg, preprocessingJSON: preprocessing)
        return Self.bytes(png, type: "image/png", cache: "private, max-age=300")
    }
}
