/// The DCT scaling a model's preprocessing decodes at. Anything but `.full` changes what the
/// network sees, so it is part of a model's contract (`galaxy.decode_scale`), never a shortcut.
public enum DecodeScale: Sendable, Hashable, CaseIterable {
    case full, half, quarter, eighth

    /// Parses the model metadata value: "1", "1/2", "1/4" or "1/8".
    public init?(metadataValue: String) {
        switch metadataValue.filter({ !$0.isWhitespace }) {
        case "1", "1/1": self = .full
        case "1/2": self = .half
        case "1/4": self = .quarter
        case "1/8": self = .eighth
        default: return nil
        }
    }

    /// The model metadata spelling: "1", "1/2", "1/4" or "1/8".
    public var metadataValue: String {
        switch self {
        case .full: return "1"
        case .half: return "1/2"
        case .quarter: return "1/4"
        case .eighth: return "1/8"
        }
    }

    /// The scaling denominator: the decoded image is `ceil(width / denominator)` wide.
    public var denominator: Int {
        switch self {
        case .full: return 1
        case .half: return 2
        case .quarter: return 4
        case .eighth: return 8
        }
    }

    /// The size of a dimension decoded at this scale (libjpeg rounds up).
    public func scaled(_ length: Int) -> Int { (length + denominator - 1) / denominator }
}
