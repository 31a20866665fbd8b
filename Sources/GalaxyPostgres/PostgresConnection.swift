import CLibPQ
import Foundation
import Logging

/// One connection to PostgreSQL through libpq. Owns its `PGconn` and closes it on deinit.
///
/// The API is synchronous and blocks the calling thread on network I/O: call it from dedicated
/// threads (`GalaxyCore.WorkerPool`, `Thread`, or `DedicatedThread.run` from async code), never
/// directly from Swift's cooperative thread pool. One connection runs one statement at a time; a
/// lock serialises callers, so sharing one between threads is safe but not concurrent.
public final class PostgresConnection: @unchecked Sendable {
    let conn: OpaquePointer
    let lock = NSRecursiveLock()
    /// Where this connection logs (at debug level; the application decides what to show).
    public let logger: Logger
    let notices: NoticeSink
    var listenedChannels: [String] = []
    var inTransaction = false

    /// Opens a connection.
    ///
    /// - Parameters:
    ///   - conninfo: a libpq connection string (`host=/tmp port=5432 dbname=galaxy`) or URL
    ///     (`postgresql://user@host:5432/db`). When nil, `DATABASE_URL` is used if set, otherwise
    ///     libpq's own `PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`... variables.
    ///   - applicationName: shown in `pg_stat_activity` unless the connection string sets one.
    ///   - logger: receives debug lines and server notices.
    /// - Throws: `PostgresError` of kind `.connection` with libpq's message.
    public init(
        conninfo: String? = nil, applicationName: String = "galaxy",
        logger: Logger = Logger(label: "galaxy.postgres")
    ) throws {
        let info = Self.resolveConnInfo(conninfo)
        self.logger = logger
        self.notices = NoticeSink(logger: logger)
        // The whole string goes in as an expandable dbname, so URLs and key=value strings both
        // work; an application_name inside it wins over the fallback.
        let handle: OpaquePointer? = Self.withKeywords(
            ["dbname": info, "fallback_application_name": applicationName]
        ) { keys, values in PQconnectdbParams(keys, values, 1) }
        guard let handle else {
            throw PostgresError(kind: .connection, message: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(handle))
            PQfinish(handle)
            throw PostgresError(kind: .connection, message: message)
        }
        conn = handle
        installNoticeReceiver()
        logger.debug(
            "connected to PostgreSQL",
            metadata: ["postgres.target": "\(target)", "postgres.pid": "\(PQbackendPID(handle))"])
    }

    deinit {
        PQfinish(conn)
    }

    /// The connection string to use: the explicit one, else `DATABASE_URL`, else empty (libpq then
    /// reads its `PG*` environment variables).
    public static func resolveConnInfo(_ explicit: String?) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty { return url }
        return ""
    }

    /// Whether the connection is usable (false after the server went away).
    public var isConnected: Bool {
        lock.withLock { PQstatus(conn) == CONNECTION_OK }
    }

    /// The server's backend process id for this connection.
    public var backendPID: Int32 { lock.withLock { PQbackendPID(conn) } }

    /// The server version as an integer (150004 for 15.4).
    public var serverVersion: Int { lock.withLock { Int(PQserverVersion(conn)) } }

    /// `user@host:port/dbname` without any password, for logs and messages.
    public var target: String {
        lock.withLock {
            func field(_ p: UnsafeMutablePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }
            return "\(field(PQuser(conn)))@\(field(PQhost(conn))):\(field(PQport(conn)))/\(field(PQdb(conn)))"
        }
    }

    /// The settings this connection actually used (after defaults and environment variables),
    /// without the password: host (or socket folder), port, user and database.
    public var parameters: (host: String, port: String, user: String, database: String) {
        lock.withLock {
            func field(_ p: UnsafeMutablePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }
            return (field(PQhost(conn)), field(PQport(conn)), field(PQuser(conn)), field(PQdb(conn)))
        }
    }

    /// A key=value connection string for another database on the same server, with the same host,
    /// port and user (no password: use a password file or `PGPASSWORD` where one is needed).
    public func conninfo(forDatabase database: String) -> String {
        let p = parameters
        func quote(_ v: String) -> String {
            "'" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        }
        return "host=\(quote(p.host)) port=\(quote(p.port)) user=\(quote(p.user)) dbname=\(quote(database))"
    }

    /// Server notices (`RAISE NOTICE`, "relation already exists, skipping") received since the last
    /// call, oldest first; they are also logged at debug level.
    public func takeNotices() -> [String] { lock.withLock { notices.take() } }

    // MARK: - Statements

    /// Runs one statement and returns its rows.
    ///
    /// - Parameters:
    ///   - query: the statement; interpolated values are sent as binds.
    ///   - resultFormat: binary by default (exact `bytea`, numbers, timestamps and arrays); text is
    ///     useful for catalog listings of types this module does not read in binary.
    /// - Throws: `PostgresError` with the server's SQLSTATE, message, detail and hint.
    @discardableResult
    public func query(_ query: PostgresQuery, resultFormat: PostgresFormat = .binary) throws -> PostgresResult {
        try lock.withLock {
            let result = try send(query, resultFormat: resultFormat)
            let status = PQresultStatus(result)
            switch status {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                return PostgresResult(taking: result)
            case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                PQclear(result)
                let error = PostgresError(
                    kind: .usage, message: "COPY must run through copyIn(_:_:)", statement: query.sql)
                abandonCopy(error)
                throw error
            default:
                throw takeError(result, statement: query.sql)
            }
        }
    }

    /// Runs one statement that returns no rows of interest and returns the number of rows it
    /// affected (for INSERT, UPDATE, DELETE, COPY; 0 otherwise).
    @discardableResult
    public func execute(_ query: PostgresQuery) throws -> Int {
        try self.query(query).affectedRows
    }

    /// Runs SQL text that may hold several statements (a migration file) through the simple query
    /// protocol. No binds: the text must be trusted.
    /// - Throws: `PostgresError` for the first failing statement; earlier statements of the text
    ///   are rolled back only if the caller runs this inside a transaction.
    public func executeScript(unsafeSQL sql: String) throws {
        try lock.withLock {
            guard PQsendQuery(conn, sql) == 1 else { throw connectionError(statement: sql) }
            var firstError: PostgresError?
            while let result = PQgetResult(conn) {
                let status = PQresultStatus(result)
                if status == PGRES_COPY_IN || status == PGRES_COPY_OUT {
                    PQclear(result)
                    firstError = firstError ?? PostgresError(kind: .usage, message: "COPY is not allowed in scripts", statement: sql)
                    abandonCopy(firstError!)
                    continue
                }
                if status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE || status == PGRES_NONFATAL_ERROR {
                    let error = takeError(result, statement: sql)
                    firstError = firstError ?? error
                } else {
                    PQclear(result)
                }
            }
            if let firstError { throw firstError }
            if PQstatus(conn) != CONNECTION_OK { throw connectionError(statement: sql) }
        }
    }

    /// Sends `query` and returns libpq's result; the caller owns it. Call with the lock held.
    func send(_ query: PostgresQuery, resultFormat: PostgresFormat) throws -> OpaquePointer {
        let result: OpaquePointer? = Self.withParameters(query.binds) { types, values, lengths, formats in
            PQexecParams(conn, query.sql, Int32(query.binds.count), types, values, lengths, formats, resultFormat.rawValue)
        }
        guard let result else { throw connectionError(statement: query.sql) }
        return result
    }

    /// Lays every bind out in one contiguous buffer and calls `body` with libpq's four parallel
    /// arrays. All pointers live only inside this scope.
    static func withParameters<R>(
        _ binds: [PostgresBind],
        _ body: (
            UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?
        ) -> R
    ) -> R {
        if binds.isEmpty { return body(nil, nil, nil, nil) }
        var storage = [UInt8]()
        storage.reserveCapacity(binds.reduce(1) { $0 + ($1.bytes?.count ?? 0) + 1 })
        var offsets = [Int?]()
        offsets.reserveCapacity(binds.count)
        for bind in binds {
            guard let bytes = bind.bytes else {
                offsets.append(nil)
                continue
            }
            offsets.append(storage.count)
            storage.append(contentsOf: bytes)
            // Text parameters are read as NUL-terminated strings; binary ones by length.
            storage.append(0)
        }
        storage.append(0)  // never empty, so the base address exists
        let types = binds.map { Oid($0.typeOID) }
        let lengths = binds.map { Int32(clamping: $0.bytes?.count ?? 0) }
        let formats = binds.map { $0.format.rawValue }
        return storage.withUnsafeBufferPointer { store in
            let base = UnsafeRawPointer(store.baseAddress!).assumingMemoryBound(to: CChar.self)
            let values: [UnsafePointer<CChar>?] = offsets.map { $0.map { base + $0 } }
            return values.withUnsafeBufferPointer { v in
                types.withUnsafeBufferPointer { t in
                    lengths.withUnsafeBufferPointer { l in
                        formats.withUnsafeBufferPointer { f in
                            body(t.baseAddress, v.baseAddress, l.baseAddress, f.baseAddress)
                        }
                    }
                }
            }
        }
    }

    // MARK: - Errors

    /// Builds the error for a failed result and frees it.
    func takeError(_ result: OpaquePointer, statement: String?) -> PostgresError {
        defer { PQclear(result) }
        func field(_ code: Character) -> String? {
            guard let p = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            let text = String(cString: p)
            return text.isEmpty ? nil : text
        }
        let sqlState = field("C")
        var message = field("M") ?? Self.trimmed(PQresultErrorMessage(result))
        if message.isEmpty { message = Self.trimmed(PQerrorMessage(conn)) }
        let lost = PQstatus(conn) != CONNECTION_OK
        var table = field("t")
        if let t = table, let schema = field("s") { table = "\(schema).\(t)" }
        let error = PostgresError(
            kind: lost && (sqlState == nil || sqlState!.hasPrefix("08") || sqlState!.hasPrefix("57P")) ? .connection : .server,
            message: message, sqlState: sqlState, detail: field("D"), hint: field("H"), context: field("W"),
            constraint: field("n"), table: table, statement: statement, position: field("P").flatMap { Int($0) })
        logger.debug(
            "statement failed",
            metadata: ["postgres.sqlstate": "\(sqlState ?? "")", "postgres.message": "\(message)"])
        return error
    }

    func connectionError(statement: String?) -> PostgresError {
        PostgresError(kind: .connection, message: Self.trimmed(PQerrorMessage(conn)), statement: statement)
    }

    /// Ends a COPY the server started unexpectedly so the connection stays usable.
    func abandonCopy(_ error: PostgresError) {
        _ = PQputCopyEnd(conn, "client does not expect COPY here")
        while let r = PQgetResult(conn) { PQclear(r) }
    }

    static func trimmed(_ p: UnsafePointer<CChar>?) -> String {
        guard let p else { return "" }
        return String(cString: p).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func withKeywords<R>(
        _ pairs: KeyValuePairs<String, String>,
        _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> R
    ) -> R {
        // strdup'd copies live until the end of this scope.
        let keys = pairs.map { strdup($0.key) }
        let values = pairs.map { strdup($0.value) }
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        let k: [UnsafePointer<CChar>?] = keys.map { UnsafePointer($0) } + [nil]
        let v: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        return k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in body(kp.baseAddress!, vp.baseAddress!) } }
    }

    // MARK: - Notices

    private func installNoticeReceiver() {
        let context = Unmanaged.passUnretained(notices).toOpaque()
        PQsetNoticeReceiver(
            conn,
            { context, result in
                guard let context, let result else { return }
                let sink = Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue()
                let text = PQresultErrorMessage(result).map { String(cString: $0) } ?? ""
                sink.receive(text.trimmingCharacters(in: .whitespacesAndNewlines))
            }, context)
    }
}

/// Collects server notices for one connection (kept alive by it; used under its lock).
final class NoticeSink {
    let logger: Logger
    private var recent: [String] = []

    init(logger: Logger) { self.logger = logger }

    func receive(_ text: String) {
        logger.debug("server notice", metadata: ["postgres.notice": "\(text)"])
        recent.append(text)
        if recent.count > 100 { recent.removeFirst(recent.count - 100) }
    }

    func take() -> [String] {
        defer { recent.removeAll() }
        return recent
    }
}
