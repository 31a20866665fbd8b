import CLibPQ

/// The rows a statement returned. Owns libpq's result (freed with `PQclear` when the last
/// reference goes); rows and cells read from it without copying until a value is decoded.
///
/// Immutable once created, so it may be read from any thread.
public final class PostgresResult: @unchecked Sendable {
    let handle: OpaquePointer
    /// Number of rows.
    public let count: Int
    /// Column names, in order.
    public let columns: [String]
    /// The command tag's row count (`INSERT 0 5` -> 5), for statements that report one.
    public let affectedRows: Int

    init(taking handle: OpaquePointer) {
        self.handle = handle
        count = Int(PQntuples(handle))
        columns = (0..<PQnfields(handle)).map { String(cString: PQfname(handle, $0)) }
        affectedRows = Int(String(cString: PQcmdTuples(handle))) ?? 0
    }

    deinit { PQclear(handle) }

    /// Whether there are no rows.
    public var isEmpty: Bool { count == 0 }

    /// The row at `index`.
    public subscript(index: Int) -> PostgresRow {
        precondition(index >= 0 && index < count, "row \(index) out of range 0..<\(count)")
        return PostgresRow(result: self, index: index)
    }

    /// The first row, if any.
    public var first: PostgresRow? { count > 0 ? self[0] : nil }

    /// The index of the column named `name`.
    public func columnIndex(_ name: String) -> Int? { columns.firstIndex(of: name) }

    /// Decodes column `column` of every row.
    public func column<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> [T] {
        try (0..<count).map { try self[$0].decode(T.self, at: column) }
    }

    /// The single value of a one-row, one-column result (`select count(*) ...`).
    /// - Throws: `PostgresError` of kind `.decoding` when the shape differs or the value does not convert.
    public func scalar<T: PostgresDecodable>(_ type: T.Type = T.self) throws -> T {
        guard count == 1, columns.count >= 1 else {
            throw PostgresError(
                kind: .decoding,
                message: "expected one row with one column, got \(count) rows and \(columns.count) columns")
        }
        return try self[0].decode(T.self, at: 0)
    }

    func cell(row: Int, column: Int) -> PostgresCell {
        let r = Int32(row)
        let c = Int32(column)
        let oid = UInt32(PQftype(handle, c))
        let format = PostgresFormat(rawValue: PQfformat(handle, c)) ?? .text
        if PQgetisnull(handle, r, c) == 1 {
            return PostgresCell(typeOID: oid, format: format, raw: nil, owner: self, columnName: columns[column])
        }
        let length = Int(PQgetlength(handle, r, c))
        let raw = UnsafeRawBufferPointer(start: PQgetvalue(handle, r, c), count: length)
        return PostgresCell(typeOID: oid, format: format, raw: raw, owner: self, columnName: columns[column])
    }
}

extension PostgresResult: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
}

/// One row of a `PostgresResult`.
public struct PostgresRow: Sendable {
    let result: PostgresResult
    /// The row's index in its result.
    public let index: Int

    /// Decodes the value in column `column` (0-based).
    /// - Throws: `PostgresError` of kind `.decoding` naming the column and both types.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at column: Int) throws -> T {
        precondition(column >= 0 && column < result.columns.count, "column \(column) out of range")
        return try T(postgresCell: result.cell(row: index, column: column))
    }

    /// Decodes the value in the column named `name`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, column name: String) throws -> T {
        guard let column = result.columnIndex(name) else {
            throw PostgresError(
                kind: .decoding,
                message: "no column named \(name); the result has \(result.columns.joined(separator: ", "))")
        }
        return try decode(T.self, at: column)
    }

    /// The raw cell in column `column`, for custom decoding.
    public func cell(at column: Int) -> PostgresCell {
        result.cell(row: index, column: column)
    }
}

/// One value of a result (or one element of an array value), viewed in place.
public struct PostgresCell: @unchecked Sendable {
    /// The value's type OID as the server reported it.
    public let typeOID: UInt32
    /// Text or binary.
    public let format: PostgresFormat
    let raw: UnsafeRawBufferPointer?
    // Keeps the memory behind `raw` alive.
    let owner: AnyObject
    /// The result column this cell came from (for error messages).
    public let columnName: String

    init(typeOID: UInt32, format: PostgresFormat, raw: UnsafeRawBufferPointer?, owner: AnyObject, columnName: String) {
        self.typeOID = typeOID
        self.format = format
        self.raw = raw
        self.owner = owner
        self.columnName = columnName
    }

    /// Whether the value is SQL NULL.
    public var isNull: Bool { raw == nil }

    /// A copy of the value's bytes as sent by the server; nil for NULL.
    public var bytes: [UInt8]? { raw.map { Array($0) } }

    /// Calls `body` with the value's bytes (empty for NULL) without copying.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(owner) { try body(raw ?? UnsafeRawBufferPointer(start: nil, count: 0)) }
    }

    func decodingError(_ swiftType: Any.Type, _ why: String? = nil) -> PostgresError {
        var message = "column \(columnName) of type OID \(typeOID) (\(format)) cannot be read as \(swiftType)"
        if let why { message += ": \(why)" }
        return PostgresError(
            kind: .decoding, message: message,
            hint: "cast the column in SQL (for example ::text or ::bigint) to a type this Swift type reads")
    }
}
