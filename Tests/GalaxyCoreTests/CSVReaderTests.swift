import Foundation
import GalaxyCore
import Testing

@Suite struct CSVReaderTests {
    private func table(_ text: String) throws -> CSVTable { try CSVReader.parse(text, path: "c.csv") }

    private func error(_ text: String) -> CSVError? {
        return #expect(throws: CSVError.self) { try CSVReader.parse(text, path: "c.csv") }
    }

    @Test func quotedCommasStayInTheField() throws {
        let t = try table("id,label\n1,\"Sb, barred\"\n")
        #expect(t.records == [CSVRecord(line: 2, fields: ["1", "Sb, barred"])])
    }

    @Test func doubledQuotesAreOneQuote() throws {
        let t = try table("id,note\n1,\"say \"\"hi\"\"\"\n2,\"\"\"\"\n3,\"\"\n")
        #expect(t.records.map { $0.fields[1] } == ["say \"hi\"", "\"", ""])
    }

    @Test func quotedNewlinesStayAndLinesArePhysical() throws {
        let t = try table("id,note\n1,\"two\nlines\"\n2,x\n3,\"a\r\nb\r\nc\"\n4,y")
        #expect(
            t.records.map(\.fields) == [
                ["1", "two\nlines"], ["2", "x"], ["3", "a\r\nb\r\nc"], ["4", "y"],
            ])
        #expect(t.records.map(\.line) == [2, 4, 5, 8])
    }

    @Test func crlfAndLoneCRBreakLines() throws {
        let crlf = try table("id,label\r\n1,Sa\r\n2,Sb\r\n")
        #expect(crlf.records.map(\.fields) == [["1", "Sa"], ["2", "Sb"]])
        #expect(crlf.records.map(\.line) == [2, 3])
        let cr = try table("id,label\r1,Sa\r2,Sb")
        #expect(cr.records.map(\.fields) == [["1", "Sa"], ["2", "Sb"]])
    }

    @Test func emptyFieldsAreEmptyStrings() throws {
        let t = try table("a,b,c\n,,\n1,,\n,\"\",3\n")
        #expect(t.records.map(\.fields) == [["", "", ""], ["1", "", ""], ["", "", "3"]])
    }

    @Test func trailingNewlineIsOptionalAndBlankLinesAreSkipped() throws {
        let without = try table("id,label\n1,Sa")
        let with = try table("id,label\n1,Sa\n")
        let blanks = try table("\nid,label\n\n1,Sa\n\n\n")
        #expect(without.records == with.records)
        #expect(blanks.records == [CSVRecord(line: 4, fields: ["1", "Sa"])])
        #expect(blanks.headerLine == 2)
    }

    @Test func byteOrderMarkIsSkipped() throws {
        let t = try CSVReader.parse([0xEF, 0xBB, 0xBF] + Array("ID,Label\n1,Sa\n".utf8), path: "c.csv")
        #expect(t.header == ["ID", "Label"])
        #expect(t.column("id") == 0)
    }

    @Test func columnsAreFoundIgnoringCaseAndSpaces() throws {
        let t = try table("Id, LABEL ,file_name\n1,Sa,x.jpg\n")
        #expect(t.column("label") == 1)
        #expect(t.column(anyOf: ["file", "file_name", "path"]) == 2)
        #expect(t.column("specobjid") == nil)
    }

    @Test func spacesAndUnicodeAreKept() throws {
        let t = try table("id,label\n 1 ,Élliptique 🌌\n")
        #expect(t.records[0].fields == [" 1 ", "Élliptique 🌌"])
    }

    @Test func unterminatedQuoteNamesTheLineWhereItOpens() {
        let e = error("id,label\n1,Sa\n2,\"Sb\n3,Sc\n")
        #expect(e == .unterminatedQuote(path: "c.csv", line: 3, field: 2))
        #expect(e?.description.hasPrefix("c.csv line 3: field 2 opens a quote") == true)
    }

    @Test func strayQuoteInAnUnquotedFieldIsAnError() {
        #expect(error("id,label\n1,Sb\"x\n") == .strayQuote(path: "c.csv", line: 2, field: 2))
        #expect(error("id,label\n1,\"Sb\"x\n") == .textAfterClosingQuote(path: "c.csv", line: 2, field: 2))
    }

    @Test func fieldCountMustMatchTheHeader() {
        // An unquoted comma inside a label shows up here instead of silently truncating it.
        let e = error("id,label\n1,Sa\n2,Sb, barred\n")
        #expect(e == .fieldCount(path: "c.csv", line: 3, expected: 2, found: 3))
        #expect(e?.description.contains("quote values that contain commas") == true)
    }

    @Test func emptyFileAndRepeatedColumnsAreErrors() {
        #expect(error("") == .empty(path: "c.csv"))
        #expect(error("\r\n\n") == .empty(path: "c.csv"))
        #expect(error("id,Label,label\n") == .duplicateColumn(path: "c.csv", line: 1, name: "label"))
    }

    @Test func missingFileIsUnreadable() {
        #expect(throws: CSVError.unreadable(path: "/nonexistent/c.csv", reason: "no such file")) {
            try CSVReader.read(contentsOfFile: "/nonexistent/c.csv")
        }
    }

    @Test func recordsWithoutHeaderMayBeRagged() throws {
        let records = try CSVReader.records(Array("a\nb,c\n\"d\"".utf8), path: "c.csv")
        #expect(records.map(\.fields) == [["a"], ["b", "c"], ["d"]])
    }
}
