import CLibPQ

extension PostgresConnection {
    /// Runs a `COPY ... FROM STDIN` statement and streams the data `body` sends.
    ///
    /// ```swift
    /// try connection.copyIn("COPY t (id, data) FROM STDIN (FORMAT binary)") { copy in
    ///     var rows = PostgresBinaryCopyEncoder()
    ///     rows.beginRow(fieldCount: 2); rows.append(int64: 1); rows.append(bytes: jpeg)
    ///     try copy.send(&rows)
    /// }
    /// ```
    ///
    /// - Returns: the number of rows the server loaded.
    /// - Throws: the error `body` threw (the COPY is then aborted, nothing is loaded), or the
    ///   server's error for bad data (for example a constraint violation).
    @discardableResult
    public func copyIn(_ statement: PostgresQuery, _ body: (PostgresCopyWriter) throws -> Void) throws -> Int {
        try lock.withLock {
            let result = try send(statement, resultFormat: .text)
            guard PQresultStatus(result) == PGRES_COPY_IN else {
                if PQresultStatus(result) == PGRES_FATAL_ERROR { throw takeError(result, statement: statement.sql) }
                PQclear(result)
                throw PostgresError(kind: .usage, message: "copyIn needs a COPY ... FROM STDIN statement", statement: statement.sql)
            }
            PQclear(result)
            let writer = PostgresCopyWriter(connection: self, statement: statement.sql)
            do {
                try body(writer)
                if let tail = writer.pendingTrailer { try writer.send(tail) }
            } catch {
                _ = PQputCopyEnd(conn, "aborted by the client")
                while let r = PQgetResult(conn) { PQclear(r) }
                throw error
            }
            guard PQputCopyEnd(conn, nil) == 1 else { throw connectionError(statement: statement.sql) }
            var rows = 0
            var failure: PostgresError?
            while let r = PQgetResult(conn) {
                if PQresultStatus(r) == PGRES_COMMAND_OK {
                    rows = Int(String(cString: PQcmdTuples(r))) ?? 0
                    PQclear(r)
                } else {
                    let error = takeError(r, statement: statement.sql)
                    failure = failure ?? error
                }
            }
            if let failure { throw failure }
            return rows
        }
    }
}

/// Sends COPY data for `PostgresConnection.copyIn`. Valid only inside that call.
public final class PostgresCopyWriter {
    private let connection: PostgresConnection
    private let statement: String
    var pendingTrailer: [UInt8]?

    init(connection: PostgresConnection, statement: String) {
        self.connection = connection
        self.statement = statement
    }

    /// Sends raw COPY data (text, CSV or binary format, as the statement says).
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        try bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            while offset < buffer.count {
                let chunk = min(buffer.count - offset, 1 << 30)
                let ok = UnsafeRawPointer(base + offset).withMemoryRebound(to: CChar.self, capacity: chunk) {
                    PQputCopyData(connection.conn, $0, Int32(chunk))
                }
                guard ok == 1 else { throw connection.connectionError(statement: statement) }
                offset += chunk
            }
        }
    }

    /// Sends the rows collected in `encoder` and empties it (its header goes out with the first
    /// call; the trailer is added automatically when the COPY ends).
    public func send(_ encoder: inout PostgresBinaryCopyEncoder) throws {
        try send(encoder.takeBytes())
        pendingTrailer = PostgresBinaryCopyEncoder.trailer
    }
}

/// Builds PostgreSQL's binary COPY format: a header, rows of length-prefixed fields, a trailer.
public struct PostgresBinaryCopyEncoder: Sendable {
    static let header: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]
    static let trailer: [UInt8] = [0xFF, 0xFF]

    private var buffer: [UInt8]
    /// Rows begun so far (all calls together).
    public private(set) var rowCount = 0

    /// Starts a stream with the binary COPY header.
    /// - Parameter includeHeader: false for a fragment of rows that other code sends after the
    ///   header of the same COPY (rows encoded on worker threads, sent by one loader).
    public init(reservingCapacity capacity: Int = 1 << 20, includeHeader: Bool = true) {
        buffer = []
        buffer.reserveCapacity(capacity)
        if includeHeader { buffer.append(contentsOf: Self.header) }
    }

    /// Bytes waiting to be sent.
    public var pendingByteCount: Int { buffer.count }

    /// Starts a row of `fieldCount` fields; append exactly that many fields next.
    public mutating func beginRow(fieldCount: Int) {
        buffer.appendBigEndian(Int16(fieldCount))
        rowCount += 1
    }

    /// A NULL field.
    public mutating func appendNull() { buffer.appendBigEndian(Int32(-1)) }

    /// A `bigint` field.
    public mutating func append(int64 value: Int64) {
        buffer.appendBigEndian(Int32(8))
        buffer.appendBigEndian(value)
    }

    /// An `integer` field.
    public mutating func append(int32 value: Int32) {
        buffer.appendBigEndian(Int32(4))
        buffer.appendBigEndian(value)
    }

    /// A `double precision` field.
    public mutating func append(double value: Double) {
        buffer.appendBigEndian(Int32(8))
        buffer.appendBigEndian(value.bitPattern)
    }

    /// A `boolean` field.
    public mutating func append(bool value: Bool) {
        buffer.appendBigEndian(Int32(1))
        buffer.append(value ? 1 : 0)
    }

    /// A `text` (or `varchar`) field.
    public mutating func append(text value: String) {
        var value = value
        value.withUTF8 { utf8 in
            buffer.appendBigEndian(Int32(utf8.count))
            buffer.append(contentsOf: utf8)
        }
    }

    /// A `bytea` field.
    public mutating func append(bytes value: [UInt8]) {
        buffer.appendBigEndian(Int32(value.count))
        buffer.append(contentsOf: value)
    }

    /// A `timestamptz` field.
    public mutating func append(timestamp value: Date) {
        buffer.appendBigEndian(Int32(8))
        buffer.appendBigEndian(PostgresTime.microsecondsSince2000(value))
    }

    /// An optional field: NULL when nil.
    public mutating func append(int64 value: Int64?) {
        if let value { append(int64: value) } else { appendNull() }
    }

    /// An optional text field: NULL when nil.
    public mutating func append(text value: String?) {
        if let value { append(text: value) } else { appendNull() }
    }

    /// Returns the collected bytes and empties the buffer.
    public mutating func takeBytes() -> [UInt8] {
        let capacity = buffer.capacity
        var out = [UInt8]()
        out.reserveCapacity(capacity)
        swap(&out, &buffer)
        return out
    }
}

import Foundation
