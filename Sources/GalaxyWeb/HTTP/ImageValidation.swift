import Foundation

/// Image work that needs the JPEG decoder: it runs on its own threads, never on event loops.
enum ImageValidation {
    /// Decodes every image once, so corrupt files are refused before anything is stored.
    static func validate(_ images: [WebAPI.UploadedImage]) async throws {
        // Filled in with GalaxyImage's decoder.
    }

    static func inputPNG(jpeg: [UInt8], preprocessingJSON: String) async throws -> [UInt8] {
        throw APIError(.notImplemented, code: "not_available", "The input crop is not available in this build.")
    }
}
