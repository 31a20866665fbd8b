import GalaxyImage
import GalaxyStore

extension JobError {
    /// A decoding failure of image `imageID`, keeping the decoder's reason.
    public init(imageID: Int64, imageError: ImageError) {
        let code: Code
        switch imageError.code {
        case .empty: code = .emptyImage
        case .notJPEG: code = .notJPEG
        case .truncated: code = .truncatedImage
        case .unsupported: code = .unsupportedImage
        case .tooLarge: code = .oversizedImage
        case .corrupt: code = .corruptImage
        }
        self.init(code, "decode image \(imageID): \(imageError)")
    }
}
