import Foundation

/// Why an `--augment` spec could not be read.
public struct AugmentationSpecError: Error, CustomStringConvertible, Sendable, Hashable {
    public enum Problem: Sendable, Hashable {
        /// Nothing was given.
        case empty
        /// A key that is not a setting.
        case unknownKey(String)
        /// A numeric setting without `=value`.
        case missingValue(key: String)
        /// A flag (rotation, flip) or keyword given a value.
        case unexpectedValue(key: String, value: String)
        /// A value that is not a number in the setting's range.
        case badValue(key: String, value: String, expected: String)
        /// The same key twice.
        case repeatedKey(String)
        /// `none` or `standard` inside a list.
        case keywordInList(String)
    }

    /// The whole spec as given.
    public var spec: String
    public var problem: Problem

    public var description: String {
        let what: String
        switch problem {
        case .empty: what = "the spec is empty"
        case .unknownKey(let key): what = "unknown key '\(key)'"
        case .missingValue(let key): what = "'\(key)' needs a value, as in \(key)=\(Self.example(key))"
        case .unexpectedValue(let key, let value): what = "'\(key)' takes no value, got '\(key)=\(value)'"
        case .badValue(let key, let value, let expected): what = "\(key) '\(value)' is not \(expected)"
        case .repeatedKey(let key): what = "'\(key)' is given twice"
        case .keywordInList(let word): what = "'\(word)' cannot be combined with other keys"
        }
        return "augmentation spec '\(spec)': \(what); use none, standard or a comma-separated list such as "
            + "\(AugmentationSettings.standard.description) (keys not given are off)"
    }

    static func example(_ key: String) -> String {
        switch key {
        case "jpeg": return "40"
        case "blur": return "0.8"
        default: return "0.1"
        }
    }
}

extension AugmentationSettings: CustomStringConvertible {
    /// Parses `none`, `standard`, or a comma-separated list of `rotation`, `flip`, `shift=F`,
    /// `scale=F`, `brightness=F`, `colour=F` (or `color`), `noise=F`, `blur=SIGMA[@P]` and
    /// `jpeg=MINQUALITY[@P]` (P: probability, default 0.3 for blur and 0.25 for jpeg). Keys not
    /// given are off. Spaces around items are ignored.
    /// - Throws: `AugmentationSpecError` naming the bad key or value.
    public init(spec: String) throws(AugmentationSpecError) {
        func fail(_ problem: AugmentationSpecError.Problem) -> AugmentationSpecError {
            AugmentationSpecError(spec: spec, problem: problem)
        }
        let items = spec.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        if items.allSatisfy(\.isEmpty) { throw fail(.empty) }
        var settings = AugmentationSettings.none
        var seen: Set<String> = []
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            var key = String(parts[0]).trimmingCharacters(in: .whitespaces)
            if key == "color" { key = "colour" }
            let value = parts.count > 1 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : nil
            if key.isEmpty { throw fail(.unknownKey(item)) }
            guard seen.insert(key).inserted else { throw fail(.repeatedKey(key)) }
            switch key {
            case "none", "standard", "rotation", "flip":
                if let value { throw fail(.unexpectedValue(key: key, value: value)) }
                if key == "none" || key == "standard" {
                    guard items.count == 1 else { throw fail(.keywordInList(key)) }
                    self = key == "none" ? .none : .standard
                    return
                }
                if key == "rotation" { settings.rotation = true } else { settings.flip = true }
            case "shift", "scale", "brightness", "colour", "noise", "blur", "jpeg":
                guard let value, !value.isEmpty else { throw fail(.missingValue(key: key)) }
                try settings.set(key, value, spec: spec)
            default:
                throw fail(.unknownKey(key))
            }
        }
        self = settings
    }

    /// Sets one numeric key from its text, checking the range.
    private mutating func set(_ key: String, _ text: String, spec: String) throws(AugmentationSpecError) {
        func bad(_ expected: String) -> AugmentationSpecError {
            AugmentationSpecError(spec: spec, problem: .badValue(key: key, value: text, expected: expected))
        }
        let pieces = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let probability: Double?
        if pieces.count > 1 {
            guard key == "blur" || key == "jpeg" else { throw bad("a plain number (only blur and jpeg take @probability)") }
            guard let p = Double(pieces[1]), (0...1).contains(p) else {
                throw bad("VALUE@PROBABILITY with a probability in 0...1")
            }
            probability = p
        } else {
            probability = nil
        }
        if key == "jpeg" {
            let qualities = Self.jpegQualities
            guard let quality = Int(pieces[0]), qualities.contains(quality) else {
                throw bad("a whole minimum quality in \(qualities.lowerBound)...\(qualities.upperBound)")
            }
            jpegQuality = quality
            if let probability { jpegProbability = probability }
            return
        }
        guard let number = Double(pieces[0]), number.isFinite else { throw bad("a number") }
        var trial = self
        switch key {
        case "shift": trial.shift = number
        case "scale": trial.scale = number
        case "brightness": trial.brightness = number
        case "colour": trial.colour = number
        case "noise": trial.noise = number
        default:
            trial.blur = number
            if let probability { trial.blurProbability = probability }
        }
        if let range = Self.ranges(trial).first(where: { $0.0 == key })?.2, !range.contains(number) {
            throw bad("in \(range.lowerBound)...\(range.upperBound)")
        }
        self = trial
    }

    /// The spec string: `none`, or the list of what is on in a fixed order, e.g.
    /// `rotation,flip,shift=0.04,scale=0.1,brightness=0.15,colour=0.08,noise=0.02,blur=0.8,jpeg=40`.
    /// Probabilities are written only when they differ from the defaults, and only for steps that
    /// are on (a step that is off has no probability to record).
    public var description: String {
        var items: [String] = []
        if rotation { items.append("rotation") }
        if flip { items.append("flip") }
        for (key, value) in [
            ("shift", shift), ("scale", scale), ("brightness", brightness), ("colour", colour), ("noise", noise),
        ] where value != 0 {
            items.append("\(key)=\(value)")
        }
        if blur != 0 {
            let p = blurProbability == Self.defaultBlurProbability ? "" : "@\(blurProbability)"
            items.append("blur=\(blur)\(p)")
        }
        if let jpegQuality {
            let p = jpegProbability == Self.defaultJPEGProbability ? "" : "@\(jpegProbability)"
            items.append("jpeg=\(jpegQuality)\(p)")
        }
        return items.isEmpty ? "none" : items.joined(separator: ",")
    }
}
