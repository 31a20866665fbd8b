import Foundation
import GalaxyPostgres
import Testing

@Suite("values travel both ways")
struct ValueRoundTripTests {
    @Test func scalarsRoundTripThroughTypedColumns() throws {
        let db = try TestDatabase.connect()
        let row = try db.query(
            """
            select \(42)::bigint, \(Int32(-7))::int, \(3.25)::float8, \(Float(0.5))::real, \(true)::bool,
                   \("héllo 'quoted' \"x\"")::text, \(Optional<Int>.none)::bigint, \(Int16(12))::smallint
            """)[0]
        #expect(try row.decode(Int.self, at: 0) == 42)
        #expect(try row.decode(Int32.self, at: 1) == -7)
        #expect(try row.decode(Double.self, at: 2) == 3.25)
        #expect(try row.decode(Float.self, at: 3) == 0.5)
        #expect(try row.decode(Bool.self, at: 4) == true)
        #expect(try row.decode(String.self, at: 5) == "héllo 'quoted' \"x\"")
        #expect(try row.decode(Int?.self, at: 6) == nil)
        #expect(try row.decode(Int16.self, at: 7) == 12)
    }

    @Test func nullIntoNonOptionalSaysSo() throws {
        let db = try TestDatabase.connect()
        let result = try db.query("select null::bigint as missing")
        let error = #expect(throws: PostgresError.self) { try result[0].decode(Int.self, at: 0) }
        #expect(error?.kind == .decoding)
        #expect(error?.description.contains("missing") == true)
        #expect(error?.description.contains("NULL") == true)
    }

    @Test func untypedParametersTakeTheirTypeFromContext() throws {
        let db = try TestDatabase.connect()
        // An int parameter passed to an int4 function argument needs no cast.
        let n = try db.query("select repeat('ab', \(3))").scalar(String.self)
        #expect(n == "ababab")
        let floats = try db.query("select \(Double.infinity)::float8, \(Double.nan)::float8")[0]
        #expect(try floats.decode(Double.self, at: 0) == .infinity)
        #expect(try floats.decode(Double.self, at: 1).isNaN)
    }

    @Test func injectionAttemptIsStoredVerbatim() throws {
        let db = try TestDatabase.connect()
        let table = TestDatabase.tableName("injection")
        try db.execute("create table \(identifier: table) (name text)")
        let hostile = "x'); drop table \(table); --"
        try db.execute("insert into \(identifier: table) values (\(hostile))")
        #expect(try db.query("select name from \(identifier: table)").scalar(String.self) == hostile)
    }

    @Test func datesRoundTripToTheMicrosecond() throws {
        let db = try TestDatabase.connect()
        let date = Date(timeIntervalSince1970: 1_764_000_000.123456)
        let back = try db.query("select \(date)::timestamptz").scalar(Date.self)
        #expect(abs(back.timeIntervalSince(date)) < 1e-6)
        let text = try db.query("select \(date)::timestamptz::text", resultFormat: .text).scalar(String.self)
        #expect(text.hasPrefix("2025-11-24"))
        let array = try db.query("select \([date, date.addingTimeInterval(1)])").scalar([Date].self)
        #expect(array.count == 2 && abs(array[1].timeIntervalSince(date) - 1) < 1e-6)
    }

    @Test func arraysOfTheDaemonProtocolRoundTrip() throws {
        let db = try TestDatabase.connect()
        let ids: [Int64] = [1, -2, Int64.max]
        let labels = ["Sa", "SBb", "quote'\"", ""]
        let probabilities = [PostgresJSONB("{\"Sa\": 0.25}"), PostgresJSONB("{\"E\": 1}")]
        let latencies: [Float] = [1.5, 0.25]
        let row = try db.query(
            "select \(ids), \(labels), \(probabilities), \(latencies), \([Int]()), array_length(\(ids), 1)")[0]
        #expect(try row.decode([Int64].self, at: 0) == ids)
        #expect(try row.decode([String].self, at: 1) == labels)
        let json = try row.decode([PostgresJSONB].self, at: 2)
        #expect(json.count == 2 && json[0].text.contains("0.25"))
        #expect(try row.decode([Float].self, at: 3) == latencies)
        #expect(try row.decode([Int].self, at: 4) == [])
        #expect(try row.decode(Int.self, at: 5) == 3)
        // Server-side arrays decode too, including int4[] into [Int].
        let server = try db.query("select array[1,2,3]::int[], array['a','b']::varchar[]")[0]
        #expect(try server.decode([Int32].self, at: 0) == [1, 2, 3])
        #expect(try server.decode([String].self, at: 1) == ["a", "b"])
    }

    @Test func numericAndOtherServerTypesReadAsNumbersOrText() throws {
        let db = try TestDatabase.connect()
        let row = try db.query(
            "select 12345.678::numeric, -0.0042::numeric, 10000::numeric, avg(x), '{\"a\":1}'::jsonb, gen_random_uuid(), count(*) from (values (1),(2)) v(x)"
        )[0]
        #expect(try row.decode(String.self, at: 0) == "12345.678")
        #expect(try row.decode(String.self, at: 1) == "-0.0042")
        #expect(try row.decode(String.self, at: 2) == "10000")
        #expect(abs(try row.decode(Double.self, at: 3) - 1.5) < 1e-12)
        #expect(try row.decode(String.self, at: 4) == "{\"a\": 1}")
        #expect(try row.decode(String.self, at: 5).count == 36)
        #expect(try row.decode(Int.self, at: 6) == 2)
    }

    @Test func byteaRoundTripsEveryByteValueInBinary() throws {
        let db = try TestDatabase.connect()
        var generator = SystemRandomNumberGenerator()
        let random = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let everyByte = (0..<512).map { UInt8(truncatingIfNeeded: $0) }
        for bytes in [[], [0], everyByte, random] as [[UInt8]] {
            let row = try db.query("select \(bytes), length(\(bytes)), md5(\(bytes))")[0]
            #expect(try row.decode([UInt8].self, at: 0) == bytes)
            #expect(try row.decode(Int.self, at: 1) == bytes.count)
        }
        // Text-format results carry bytea as hex; that reads back the same.
        let hex = try db.query("select \(everyByte)", resultFormat: .text).scalar([UInt8].self)
        #expect(hex == everyByte)
        let table = TestDatabase.tableName("blobs")
        try db.execute("create table \(identifier: table) (id int, data bytea)")
        try db.execute("insert into \(identifier: table) values (1, \(PostgresBytea(random)))")
        #expect(try db.query("select data from \(identifier: table)").scalar(PostgresBytea.self).bytes == random)
    }

    @Test func rowsAreReadByNameAndIterated() throws {
        let db = try TestDatabase.connect()
        let result = try db.query("select g as n, g * 2 as twice from generate_series(1, 5) g")
        #expect(result.count == 5)
        #expect(result.columns == ["n", "twice"])
        var total = 0
        for row in result { total += try row.decode(Int.self, column: "twice") }
        #expect(total == 30)
        #expect(try result.column(0, as: Int.self) == [1, 2, 3, 4, 5])
        #expect(throws: PostgresError.self) { try result[0].decode(Int.self, column: "absent") }
    }

    @Test func asyncCallersHopToADedicatedThread() async throws {
        let url = try TestDatabase.url()
        let value = try await DedicatedThread.run {
            try PostgresConnection(conninfo: url).query("select 41 + 1").scalar(Int.self)
        }
        #expect(value == 42)
    }
}
