import Foundation
import GalaxyPostgres
import GalaxyTestSupport
import Testing

@Suite("errors say what failed")
struct ErrorTests {
    @Test func syntaxErrorCarriesSQLStateStatementAndPosition() throws {
        let db = try TestDatabase.connect()
        let secret = "secret-bind-value-123"
        let error = #expect(throws: PostgresError.self) {
            try db.query("selec \(secret)")
        }
        #expect(error?.sqlState == PostgresError.Code.syntaxError)
        #expect(error?.kind == .server)
        #expect(error?.statement == "selec $1")
        #expect(error?.position == 1)
        #expect(error?.description.contains("42601") == true)
        #expect(error?.description.contains(secret) == false)
        // The connection stays usable after a statement error.
        #expect(try db.query("select 1").scalar(Int.self) == 1)
    }

    @Test func uniqueViolationNamesTheConstraintAndKeepsValuesOutOfTheDescription() throws {
        let db = try TestDatabase.connect()
        let table = TestDatabase.tableName("uniq")
        try db.execute("create table \(identifier: table) (name text constraint \(identifier: table + "_name") unique)")
        try db.execute("insert into \(identifier: table) values (\("galaxy-one"))")
        let error = #expect(throws: PostgresError.self) {
            try db.execute("insert into \(identifier: table) values (\("galaxy-one"))")
        }
        #expect(error?.sqlState == PostgresError.Code.uniqueViolation)
        #expect(error?.constraint == table + "_name")
        #expect(error?.table == "public." + table)
        #expect(error?.detail?.contains("already exists") == true)
        #expect(error?.isConnectionLoss == false)
    }

    @Test func raisedExceptionsCarryHint() throws {
        let db = try TestDatabase.connect()
        let error = #expect(throws: PostgresError.self) {
            try db.execute(
                "do $$ begin raise exception 'image % is missing', 7 using errcode = 'GZ001', hint = 'insert it first'; end $$")
        }
        #expect(error?.sqlState == "GZ001")
        #expect(error?.message == "image 7 is missing")
        #expect(error?.hint == "insert it first")
        #expect(error?.description.contains("hint: insert it first") == true)
    }

    @Test func refusedConnectionSaysWhereAndWhatToDo() throws {
        // Nothing listens on a port we just saw free.
        let port = try freeLocalPort()
        let error = #expect(throws: PostgresError.self) {
            try PostgresConnection(conninfo: "host=127.0.0.1 port=\(port) user=galaxy dbname=x connect_timeout=5")
        }
        #expect(error?.kind == .connection)
        #expect(error?.isConnectionLoss == true)
        #expect(error?.message.contains("Connection refused") == true)
        #expect(error?.message.contains("\(port)") == true)
        #expect(error?.description.contains("DATABASE_URL") == true)
    }

    /// One rule for "retrying cannot help", used by connect() and by the daemon alike.
    @Test func permanenceComesFromTheSQLStateOrLibpqsWording() throws {
        let db = try TestDatabase.connect()
        let undefined = #expect(throws: PostgresError.self) { try db.query("select no_such_function_here()") }
        #expect(undefined?.isPermanent == true)
        let syntax = #expect(throws: PostgresError.self) { try db.query("selec 1") }
        #expect(syntax?.isPermanent == false)
        let refused = PostgresError(kind: .connection, message: "connection to server failed: Connection refused")
        #expect(!refused.isPermanent && refused.isConnectionLoss)
        let password = PostgresError(kind: .connection, message: "FATAL:  password authentication failed for user \"x\"")
        #expect(password.isPermanent)
        #expect(PostgresError(kind: .usage, message: "invalid connection option \"hots\"").isPermanent)
    }

    @Test func permanentConnectErrorsAreNotRetried() throws {
        let url = try TestDatabase.url()
        let connection = try PostgresConnection(conninfo: url)
        let missing = connection.conninfo(forDatabase: "no_such_database_here")
        let error = #expect(throws: PostgresError.self) {
            try PostgresConnection.connect(conninfo: missing, policy: .init(initialDelay: 0.01, maxAttempts: 50))
        }
        #expect(error?.message.contains("does not exist") == true)
    }

    @Test func scriptsRunSeveralStatementsAndStopAtTheFirstError() throws {
        let db = try TestDatabase.connect()
        let table = TestDatabase.tableName("script")
        try db.executeScript(unsafeSQL: "create table \(table) (x int); insert into \(table) values (1); insert into \(table) values (2);")
        #expect(try db.query("select sum(x) from \(identifier: table)").scalar(Int.self) == 3)
        let error = #expect(throws: PostgresError.self) {
            try db.executeScript(unsafeSQL: "insert into \(table) values (3); select 1/0; insert into \(table) values (4);")
        }
        #expect(error?.sqlState == "22012")
        // Outside a transaction the simple protocol runs the text as one implicit transaction.
        #expect(try db.query("select count(*) from \(identifier: table)").scalar(Int.self) == 2)
    }
}

func freeLocalPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
