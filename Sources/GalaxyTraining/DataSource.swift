/// One `--data` of a training run: a data directory or the database's labelled images, with the
/// weight its images get and, for a directory, which column holds the label.
///
/// The command-line form is `PATH[:weight=W][:label-column=NAME]` or `db[:weight=W]`. Options are
/// trailing `:name=value` segments whose value has no `/`, so a path that happens to contain `:`
/// is read as a path; a directory literally named `db` is written `./db`, and a path that ends in
/// something like `:x=y` is written with a trailing `/`.
public struct DataSource: Sendable, Hashable, Codable {
    public enum Location: Sendable, Hashable, Codable {
        /// A directory with `catalog.csv` and its images.
        case directory(String)
        /// Every labelled row of `galaxy.images`.
        case database
    }

    public var location: Location
    /// How much each of this source's images counts relative to the others' (> 0; 1 by default).
    public var weight: Double
    /// The catalog column with the label; nil reads `label`. Directories only.
    public var labelColumn: String?

    /// - Throws: `DataSourceError` when the weight is not a finite number above 0, the path is
    ///   empty, or a label column is given for the database.
    public init(location: Location, weight: Double = 1, labelColumn: String? = nil) throws(DataSourceError) {
        guard weight.isFinite, weight > 0 else {
            throw .badWeight(String(weight), argument: Self.describe(location))
        }
        if case .directory(let path) = location, path.isEmpty { throw .emptyPath(argument: "") }
        if location == .database, labelColumn != nil {
            throw .labelColumnForDatabase(argument: Self.describe(location))
        }
        if let labelColumn, labelColumn.isEmpty {
            throw .emptyValue("label-column", argument: Self.describe(location))
        }
        self.location = location
        self.weight = weight
        self.labelColumn = labelColumn
    }

    /// Parses one `--data` argument: `PATH[:weight=W][:label-column=NAME]` or `db[:weight=W]`.
    /// - Throws: `DataSourceError` naming the argument and the part that is wrong.
    public init(argument: String) throws(DataSourceError) {
        var rest = Substring(argument)
        var options: [(name: String, value: String)] = []
        while let colon = rest.lastIndex(of: ":"), let option = Self.option(rest[rest.index(after: colon)...])
        {
            options.insert(option, at: 0)
            rest = rest[..<colon]
        }
        var weight: Double?
        var labelColumn: String?
        for (name, value) in options {
            switch name {
            case "weight":
                guard weight == nil else { throw .repeatedOption(name, argument: argument) }
                guard let number = Double(value), number.isFinite, number > 0 else {
                    throw .badWeight(value, argument: argument)
                }
                weight = number
            case "label-column":
                guard labelColumn == nil else { throw .repeatedOption(name, argument: argument) }
                guard !value.isEmpty else { throw .emptyValue(name, argument: argument) }
                labelColumn = value
            default:
                throw .unknownOption(name, argument: argument)
            }
        }
        guard !rest.isEmpty else { throw .emptyPath(argument: argument) }
        let location: Location = rest == "db" ? .database : .directory(String(rest))
        if location == .database, labelColumn != nil { throw .labelColumnForDatabase(argument: argument) }
        try self.init(location: location, weight: weight ?? 1, labelColumn: labelColumn)
    }

    /// The command-line form, which `init(argument:)` reads back to the same source.
    public var argument: String {
        var text = Self.describe(location)
        if weight != 1 { text += ":weight=\(weight)" }
        if let labelColumn { text += ":label-column=\(labelColumn)" }
        return text
    }

    /// How to read this source's catalog: `base` with this source's label column, when it has one.
    public func catalogOptions(_ base: CatalogOptions = .init()) -> CatalogOptions {
        var options = base
        if let labelColumn { options.labelColumn = labelColumn }
        return options
    }

    /// A trailing segment read as an option: `name=value`, the name letters and dashes, no `/`.
    private static func option(_ segment: Substring) -> (name: String, value: String)? {
        guard let equals = segment.firstIndex(of: "="), !segment.contains("/") else { return nil }
        let name = segment[..<equals]
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0 == "-" }) else { return nil }
        return (String(name), String(segment[segment.index(after: equals)...]))
    }

    private static func describe(_ location: Location) -> String {
        switch location {
        case .database: return "db"
        case .directory(let path):
            if path == "db" { return "./db" }
            if let colon = path.lastIndex(of: ":"), option(path[path.index(after: colon)...]) != nil {
                return path + "/"
            }
            return path
        }
    }
}

/// A `--data` argument that cannot be read.
public enum DataSourceError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyPath(argument: String)
    case badWeight(String, argument: String)
    case unknownOption(String, argument: String)
    case repeatedOption(String, argument: String)
    case emptyValue(String, argument: String)
    case labelColumnForDatabase(argument: String)

    public var description: String {
        let form = "write --data PATH[:weight=W][:label-column=NAME] or --data db[:weight=W]"
        switch self {
        case .emptyPath(let argument):
            return "--data '\(argument)' names no directory; \(form)"
        case .badWeight(let value, let argument):
            return
                "--data '\(argument)': weight '\(value)' is not a number above 0; write e.g. :weight=2 or :weight=0.5"
        case .unknownOption(let name, let argument):
            return "--data '\(argument)': unknown option '\(name)' (known: weight, label-column); "
                + "a path that really ends like this is written with a trailing /"
        case .repeatedOption(let name, let argument):
            return "--data '\(argument)': option '\(name)' is given twice; keep one"
        case .emptyValue(let name, let argument):
            return "--data '\(argument)': option '\(name)' has no value; \(form)"
        case .labelColumnForDatabase(let argument):
            return
                "--data '\(argument)': the database's label is galaxy.images.label, so label-column applies to directories only"
        }
    }
}
