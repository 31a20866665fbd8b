import Foundation

/// One record of a CSV file: its fields and the physical line it starts on (records with quoted
/// newlines span several lines; errors about the record name the first).
public struct CSVRecord: Sendable, Hashable {
    /// 1-based physical line of the record's first character (the header is line 1 unless blank
    /// lines precede it).
    public let line: Int
    /// The fields exactly as written, quotes removed and `""` unescaped; surrounding spaces are kept.
    public let fields: [String]

    public init(line: Int, fields: [String]) {
        self.line = line
        self.fields = fields
    }
}

/// A CSV file read with its header: every record has as many fields as the header, and columns are
/// found by name, ignoring case and surrounding spaces.
public struct CSVTable: Sendable {
    /// Where the text came from, for errors.
    public let path: String
    /// The header's field names as written.
    public let header: [String]
    /// The line the header starts on.
    public let headerLine: Int
    /// Records after the header, in file order; blank lines are not records.
    public let records: [CSVRecord]

    /// The index of the column called `name` (case-insensitive, surrounding spaces ignored).
    public func column(_ name: String) -> Int? {
        let wanted = Self.normalised(name)
        return header.firstIndex { Self.normalised($0) == wanted }
    }

    /// The index of the first column called any of `names`, in the order given.
    public func column(anyOf names: [String]) -> Int? {
        names.lazy.compactMap { column($0) }.first
    }

    static func normalised(_ name: String) -> String {
        name.trimmingCharacters(in: .whitespaces).lowercased()
    }
}

/// Reads CSV as RFC 4180 defines it: fields separated by commas, records by CR LF or LF (a lone CR
/// counts too), fields in double quotes may hold commas, line breaks and `""` for a quote.
/// A UTF-8 byte order mark at the start is skipped. Lines that are entirely empty are skipped.
///
/// The one CSV parser of the project: training catalogs and ingest catalogs both read through it,
/// so a label such as `"Sb, barred"` means the same to every command.
public enum CSVReader {
    /// Reads and parses a file.
    /// - Throws: `CSVError` naming the file (and line) when it cannot be read or is not valid CSV.
    public static func read(contentsOfFile path: String) throws(CSVError) -> CSVTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw .unreadable(path: path, reason: exists ? "cannot read the file" : "no such file")
        }
        return try parse([UInt8](data), path: path)
    }

    /// Parses text whose first record is the header.
    /// - Parameter path: names the source in errors.
    /// - Throws: `CSVError` naming `path` and the line at fault.
    public static func parse(_ text: String, path: String) throws(CSVError) -> CSVTable {
        try parse(Array(text.utf8), path: path)
    }

    /// Parses UTF-8 bytes whose first record is the header.
    /// - Parameter path: names the source in errors.
    /// - Throws: `CSVError` naming `path` and the line at fault: an unterminated quote, a stray
    ///   quote, text after a closing quote, a record whose field count differs from the header's,
    ///   or a column name that appears twice.
    public static func parse(_ bytes: [UInt8], path: String) throws(CSVError) -> CSVTable {
        var records = try records(bytes, path: path)
        guard !records.isEmpty else { throw .empty(path: path) }
        let header = records.removeFirst()
        var seen: Set<String> = []
        for name in header.fields.map(CSVTable.normalised) where !name.isEmpty && !seen.insert(name).inserted
        {
            throw .duplicateColumn(path: path, line: header.line, name: name)
        }
        for record in records where record.fields.count != header.fields.count {
            throw .fieldCount(
                path: path, line: record.line, expected: header.fields.count, found: record.fields.count)
        }
        return CSVTable(path: path, header: header.fields, headerLine: header.line, records: records)
    }

    /// Splits bytes into records without looking at a header (field counts may differ).
    /// - Throws: `CSVError` for an unterminated quote, a stray quote or text after a closing quote.
    public static func records(_ bytes: [UInt8], path: String) throws(CSVError) -> [CSVRecord] {
        var scanner = CSVScanner(bytes: bytes, path: path)
        return try scanner.scan()
    }
}

/// The state machine behind `CSVReader`, over bytes: the separators are ASCII, so a multi-byte UTF-8
/// character can never be mistaken for one.
private struct CSVScanner {
    private static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"),
        cr = UInt8(ascii: "\r")

    let bytes: [UInt8]
    let path: String
    private var i = 0
    private var line = 1

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }  // UTF-8 byte order mark (Excel writes one)
    }

    mutating func scan() throws(CSVError) -> [CSVRecord] {
        var records: [CSVRecord] = []
        while i < bytes.count {
            if isLineBreak(at: i) {  // a blank line is not a record
                consumeLineBreak()
                continue
            }
            let start = line
            var fields: [String] = []
            var ended = false
            while !ended {
                fields.append(try field(number: fields.count + 1))
                if i >= bytes.count {
                    ended = true
                } else if bytes[i] == Self.comma {
                    i += 1
                } else {
                    consumeLineBreak()
                    ended = true
                }
            }
            records.append(CSVRecord(line: start, fields: fields))
        }
        return records
    }

    /// Reads one field and stops before the comma, line break or end that follows it.
    private mutating func field(number: Int) throws(CSVError) -> String {
        guard i < bytes.count, bytes[i] == Self.quote else {
            let start = i
            while i < bytes.count, bytes[i] != Self.comma, !isLineBreak(at: i) {
                if bytes[i] == Self.quote { throw .strayQuote(path: path, line: line, field: number) }
                i += 1
            }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }
        let openedOn = line
        i += 1
        var value: [UInt8] = []
        while true {
            guard i < bytes.count else { throw .unterminatedQuote(path: path, line: openedOn, field: number) }
            let byte = bytes[i]
            if byte == Self.quote {
                if i + 1 < bytes.count, bytes[i + 1] == Self.quote {
                    value.append(Self.quote)
                    i += 2
                    continue
                }
                i += 1
                break
            }
            if byte == Self.lf || (byte == Self.cr && (i + 1 >= bytes.count || bytes[i + 1] != Self.lf)) {
                line += 1
            }
            value.append(byte)
            i += 1
        }
        if i < bytes.count, bytes[i] != Self.comma, !isLineBreak(at: i) {
            throw .textAfterClosingQuote(path: path, line: line, field: number)
        }
        return String(decoding: value, as: UTF8.self)
    }

    private func isLineBreak(at index: Int) -> Bool {
        bytes[index] == Self.lf || bytes[index] == Self.cr
    }

    private mutating func consumeLineBreak() {
        if bytes[i] == Self.cr, i + 1 < bytes.count, bytes[i + 1] == Self.lf { i += 1 }
        i += 1
        line += 1
    }
}

/// CSV that cannot be read, with the file and line at fault and how to fix it.
public enum CSVError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    /// No header: the file is empty or holds only blank lines.
    case empty(path: String)
    /// A field opened with `"` on `line` is never closed.
    case unterminatedQuote(path: String, line: Int, field: Int)
    /// A `"` inside a field that does not start with one.
    case strayQuote(path: String, line: Int, field: Int)
    /// Characters between a closing `"` and the next comma or line break.
    case textAfterClosingQuote(path: String, line: Int, field: Int)
    case fieldCount(path: String, line: Int, expected: Int, found: Int)
    case duplicateColumn(path: String, line: Int, name: String)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .unreadable(let path, _), .empty(let path), .unterminatedQuote(let path, _, _),
            .strayQuote(let path, _, _),
            .textAfterClosingQuote(let path, _, _), .fieldCount(let path, _, _, _),
            .duplicateColumn(let path, _, _):
            return path
        }
    }

    /// The physical line at fault, when there is one.
    public var line: Int? {
        switch self {
        case .unreadable, .empty: return nil
        case .unterminatedQuote(_, let line, _), .strayQuote(_, let line, _),
            .textAfterClosingQuote(_, let line, _),
            .fieldCount(_, let line, _, _), .duplicateColumn(_, let line, _):
            return line
        }
    }

    /// What is wrong and what to do, without the file and line.
    public var reason: String {
        switch self {
        case .unreadable(_, let reason): return reason
        case .empty: return "the file is empty; it needs a header line naming its columns"
        case .unterminatedQuote(_, _, let field):
            return
                "field \(field) opens a quote that is never closed; close it with \" (a quote inside is written \"\")"
        case .strayQuote(_, _, let field):
            return
                "field \(field) has a \" inside an unquoted value; quote the whole field and double the quote (\"a\"\"b\")"
        case .textAfterClosingQuote(_, _, let field):
            return "field \(field) has text after its closing quote; put the whole value inside the quotes"
        case .fieldCount(_, _, let expected, let found):
            return
                "expected \(expected) fields as in the header, found \(found); quote values that contain commas"
        case .duplicateColumn(_, _, let name):
            return "column '\(name)' appears twice in the header; rename one"
        }
    }

    public var description: String {
        "\(path)\(line.map { " line \($0)" } ?? ""): \(reason)"
    }
}
