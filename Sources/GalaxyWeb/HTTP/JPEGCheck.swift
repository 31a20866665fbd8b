/// Cheap checks that a body is a complete JPEG file, run before anything is stored.
enum JPEGCheck {
    /// Why a body is not acceptable as a JPEG.
    enum Failure: Equatable {
        case empty, notJPEG, truncated
    }

    /// Checks the SOI marker and magic bytes at the start (`FF D8 FF`) and the EOI marker (`FF D9`)
    /// at the end (allowing a little trailing padding, which some encoders add).
    static func check(_ bytes: [UInt8]) -> Failure? {
        if bytes.isEmpty { return .empty }
        guard bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF else {
            return .notJPEG
        }
        // The smallest real JPEG (SOI, tables, SOF, SOS, data, EOI) is well over 100 bytes.
        guard bytes.count >= 107 else { return .truncated }
        let tailStart = max(2, bytes.count - 32)
        var i = bytes.count - 2
        while i >= tailStart {
            if bytes[i] == 0xFF && bytes[i + 1] == 0xD9 { return nil }
            i -= 1
        }
        return .truncated
    }

    /// The JSON error for a failed check.
    static func error(_ failure: Failure, name: String?) -> APIError {
        let what = name.map { "'\($0)'" } ?? "The request body"
        switch failure {
        case .empty:
            return APIError(.badRequest, code: "empty_body", "\(what) is empty; send the bytes of a JPEG file.")
        case .notJPEG:
            return APIError(
                .unsupportedMediaType, code: "not_jpeg",
                "\(what) is not a JPEG file (it does not start with the JPEG marker FF D8 FF); only JPEG images are accepted.")
        case .truncated:
            return APIError(
                .unprocessableContent, code: "truncated_jpeg",
                "\(what) is a truncated JPEG file (no end-of-image marker); upload the complete file.")
        }
    }
}
