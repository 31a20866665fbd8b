/// Why an image could not be decoded or preprocessed.
public struct ImageError: Error, CustomStringConvertible, Sendable, Hashable {
    public enum Code: String, Sendable, Hashable {
        /// No bytes at all.
        case empty
        /// The bytes are not a JPEG (no start-of-image marker).
        case notJPEG
        /// The JPEG stops before its end.
        case truncated
        /// A valid JPEG variant this pipeline does not handle (12-bit, lossless, ...).
        case unsupported
        /// More pixels than the configured limit.
        case tooLarge
        /// A JPEG whose data is damaged.
        case corrupt
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String {
        let hint: String
        switch code {
        case .empty: hint = "the file or row holds no bytes; re-export or re-upload it"
        case .notJPEG: hint = "only JPEG images are accepted; convert the file to JPEG"
        case .truncated: hint = "the file was cut short; download or copy it again"
        case .unsupported: hint = "re-encode it as an 8-bit baseline or progressive JPEG"
        case .tooLarge: hint = "downscale it, or raise the pixel limit (maxPixels)"
        case .corrupt: hint = "the JPEG data is damaged; re-encode or replace the file"
        }
        return "\(code.rawValue): \(message) (\(hint))"
    }

    /// Classifies a libjpeg message (TurboJPEG reports errors as text only).
    static func fromLibraryMessage(_ text: String, context: String) -> ImageError {
        let code: Code
        if text.contains("Not a JPEG") {
            code = .notJPEG
        } else if text.contains("Premature end") || text.contains("Empty input") {
            code = .truncated
        } else if text.contains("Unsupported") || text.contains("not implemented")
            || text.contains("omitted at compile time") || text.contains("Too many color components")
            || text.contains("DNL not supported")
        {
            code = .unsupported
        } else if text.contains("Maximum supported image dimension") {
            code = .tooLarge
        } else {
            code = .corrupt
        }
        return ImageError(code, "\(context): \(text)")
    }
}
