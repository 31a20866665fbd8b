import Foundation
import GalaxyPostgres
import Testing

@Suite("transactions and COPY")
struct TransactionAndCopyTests {
    struct Boom: Error {}

    @Test func transactionCommitsOnReturnAndRollsBackOnThrow() throws {
        let db = try TestDatabase.connect()
        let table = TestDatabase.tableName("tx")
        try db.execute("create table \(identifier: table) (x int)")
        let returned = try db.transaction { tx in
            try tx.execute("insert into \(identifier: table) values (1)")
            return "done"
        }
        #expect(returned == "done")
        #expect(throws: Boom.self) {
            try db.transaction { tx in
                try tx.execute("insert into \(identifier: table) values (2)")
                throw Boom()
            }
        }
        #expect(try db.query("select array_agg(x) from \(identifier: table)").scalar([Int].self) == [1])
    }

    @Test func swallowedStatementErrorRollsBackAndSaysSo() throws {
        let db = try TestDatabase.connect()
        let table = TestDatabase.tableName("tx_swallow")
        try db.execute("create table \(identifier: table) (x int)")
        let error = #expect(throws: PostgresError.self) {
            try db.transaction { tx in
                try tx.execute("insert into \(identifier: table) values (1)")
                _ = try? tx.execute("select 1/0")
            }
        }
        #expect(error?.kind == .usage)
        #expect(try db.query("select count(*) from \(identifier: table)").scalar(Int.self) == 0)
    }

    @Test func nestedTransactionIsRefused() throws {
        let db = try TestDatabase.connect()
        let error = #expect(throws: PostgresError.self) {
            try db.transaction { tx in try tx.transaction { _ in } }
        }
        #expect(error?.kind == .usage)
        #expect(try db.query("select 1").scalar(Int.self) == 1)
    }

    @Test(arguments: [.readCommitted, .repeatableRead, .serializable] as [PostgresIsolation])
    func isolationLevelIsApplied(level: PostgresIsolation) throws {
        let db = try TestDatabase.connect()
        let shown = try db.transaction(isolation: level) { tx in
            try tx.query("show transaction_isolation").scalar(String.self)
        }
        #expect(shown.uppercased() == level.rawValue)
    }

    @Test func binaryCopyLoadsRowsWithBytea() throws {
        let db = try TestDatabase.connect()
        let table = TestDatabase.tableName("copy")
        try db.execute("create table \(identifier: table) (id bigint, name text, data bytea, score float8, ok bool, note text)")
        let rows = 5_000
        let loaded = try db.copyIn("copy \(identifier: table) (id, name, data, score, ok, note) from stdin (format binary)") { copy in
            var encoder = PostgresBinaryCopyEncoder()
            for i in 0..<rows {
                encoder.beginRow(fieldCount: 6)
                encoder.append(int64: Int64(i))
                encoder.append(text: "image-\(i).jpg")
                encoder.append(bytes: [UInt8](repeating: UInt8(i % 256), count: i % 300))
                encoder.append(double: Double(i) / 2)
                encoder.append(bool: i % 2 == 0)
                encoder.append(text: i % 3 == 0 ? nil : "n")
                if encoder.pendingByteCount > 64 * 1024 { try copy.send(&encoder) }
            }
            try copy.send(&encoder)
        }
        #expect(loaded == rows)
        let check = try db.query(
            "select count(*), sum(id), sum(length(data)), sum(score), count(*) filter (where ok), count(note) from \(identifier: table)"
        )[0]
        #expect(try check.decode(Int.self, at: 0) == rows)
        #expect(try check.decode(Int.self, at: 1) == rows * (rows - 1) / 2)
        #expect(try check.decode(Int.self, at: 2) == (0..<rows).reduce(0) { $0 + $1 % 300 })
        #expect(abs(try check.decode(Double.self, at: 3) - Double(rows * (rows - 1) / 2) / 2) < 1e-6)
        #expect(try check.decode(Int.self, at: 4) == rows / 2)
        #expect(try check.decode(Int.self, at: 5) == rows - (rows + 2) / 3)
        let sample = try db.query("select data from \(identifier: table) where id = 299").scalar([UInt8].self)
        #expect(sample == [UInt8](repeating: 43, count: 299))
    }

    @Test func copyAbortedByTheCallerLoadsNothing() throws {
        let db = try TestDatabase.connect()
        let table = TestDatabase.tableName("copy_abort")
        try db.execute("create table \(identifier: table) (id bigint)")
        #expect(throws: Boom.self) {
            try db.copyIn("copy \(identifier: table) from stdin (format binary)") { copy in
                var encoder = PostgresBinaryCopyEncoder()
                encoder.beginRow(fieldCount: 1)
                encoder.append(int64: 1)
                try copy.send(&encoder)
                throw Boom()
            }
        }
        #expect(try db.query("select count(*) from \(identifier: table)").scalar(Int.self) == 0)
    }

    @Test func copyWithBadDataReportsTheServerError() throws {
        let db = try TestDatabase.connect()
        let table = TestDatabase.tableName("copy_bad")
        try db.execute("create table \(identifier: table) (id bigint primary key)")
        let error = #expect(throws: PostgresError.self) {
            try db.copyIn("copy \(identifier: table) from stdin (format binary)") { copy in
                var encoder = PostgresBinaryCopyEncoder()
                for _ in 0..<2 {
                    encoder.beginRow(fieldCount: 1)
                    encoder.append(int64: 7)
                }
                try copy.send(&encoder)
            }
        }
        #expect(error?.sqlState == PostgresError.Code.uniqueViolation)
        #expect(try db.query("select 1").scalar(Int.self) == 1)
        // Text COPY works through the same call.
        let n = try db.copyIn("copy \(identifier: table) from stdin") { copy in
            try copy.send(Array("1\n2\n3\n".utf8))
        }
        #expect(n == 3)
    }
}
