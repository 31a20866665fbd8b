import GalaxyTraining
import Testing

@Suite struct DataSourceTests {
    @Test func pathsAndTheDatabase() throws {
        #expect(try DataSource(argument: "data") == DataSource(location: .directory("data")))
        #expect(try DataSource(argument: "db") == DataSource(location: .database))
        #expect(try DataSource(argument: "./db") == DataSource(location: .directory("./db")))
        #expect(try DataSource(argument: "db:weight=3").weight == 3)
    }

    @Test func optionsInAnyOrder() throws {
        let expected = try DataSource(location: .directory("/data/gz1"), weight: 0.5, labelColumn: "gz1_name")
        #expect(try DataSource(argument: "/data/gz1:weight=0.5:label-column=gz1_name") == expected)
        #expect(try DataSource(argument: "/data/gz1:label-column=gz1_name:weight=0.5") == expected)
        #expect(
            try DataSource(argument: "/data/gz1:label-column=gz1_name").catalogOptions().labelColumn
                == "gz1_name")
        #expect(try DataSource(argument: "/data/gz1").catalogOptions().labelColumn == "label")
    }

    @Test func colonsInPathsStayInThePath() throws {
        #expect(try DataSource(argument: "/mnt/c:/data").location == .directory("/mnt/c:/data"))
        #expect(try DataSource(argument: "run:2026-01-02").location == .directory("run:2026-01-02"))
        #expect(try DataSource(argument: "odd:x=y/").location == .directory("odd:x=y/"))
        #expect(
            try DataSource(argument: "a:b:weight=2") == DataSource(location: .directory("a:b"), weight: 2))
    }

    @Test func argumentRoundTrips() throws {
        for text in [
            "data", "db", "./db", "db:weight=2.5", "/x/y:weight=0.25:label-column=gz1_name", "odd:x=y/",
        ] {
            let source = try DataSource(argument: text)
            #expect(try DataSource(argument: source.argument) == source, "\(text) -> \(source.argument)")
        }
        #expect(try DataSource(location: .directory("db")).argument == "./db")
        #expect(try DataSource(location: .directory("odd:x=y")).argument == "odd:x=y/")
    }

    @Test func mistakesAreNamed() {
        #expect(throws: DataSourceError.badWeight("0", argument: "data:weight=0")) {
            try DataSource(argument: "data:weight=0")
        }
        #expect(throws: DataSourceError.badWeight("-1", argument: "data:weight=-1")) {
            try DataSource(argument: "data:weight=-1")
        }
        #expect(throws: DataSourceError.badWeight("heavy", argument: "data:weight=heavy")) {
            try DataSource(argument: "data:weight=heavy")
        }
        #expect(throws: DataSourceError.badWeight("inf", argument: "data:weight=inf")) {
            try DataSource(argument: "data:weight=inf")
        }
        #expect(throws: DataSourceError.unknownOption("wieght", argument: "data:wieght=2")) {
            try DataSource(argument: "data:wieght=2")
        }
        #expect(throws: DataSourceError.repeatedOption("weight", argument: "data:weight=1:weight=2")) {
            try DataSource(argument: "data:weight=1:weight=2")
        }
        #expect(throws: DataSourceError.emptyPath(argument: ":weight=2")) {
            try DataSource(argument: ":weight=2")
        }
        #expect(throws: DataSourceError.emptyPath(argument: "")) { try DataSource(argument: "") }
        #expect(throws: DataSourceError.emptyValue("label-column", argument: "data:label-column=")) {
            try DataSource(argument: "data:label-column=")
        }
        #expect(throws: DataSourceError.labelColumnForDatabase(argument: "db:label-column=x")) {
            try DataSource(argument: "db:label-column=x")
        }
        #expect(throws: DataSourceError.self) { try DataSource(location: .database, weight: .nan) }
    }

    @Test func errorsSayWhatToWrite() {
        let message = "\(DataSourceError.unknownOption("wieght", argument: "data:wieght=2"))"
        #expect(message.contains("known: weight, label-column"))
    }
}
