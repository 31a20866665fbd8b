import Foundation
import GalaxyPostgres
import GalaxyService
import Testing

@Suite struct JSONTextTests {
    @Test func probabilitiesAreAStableJSONObject() throws {
        let text = JSONText.object(["Sb": 0.75, "A": 0.25, "Ei": 0])
        #expect(text == #"{"A":0.25,"Ei":0,"Sb":0.75}"#)
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Double]
        #expect(parsed == ["A": 0.25, "Ei": 0, "Sb": 0.75])
    }

    @Test func stringsAreEscaped() throws {
        let label = "a\"b\\c\nd\u{1}"
        let text = JSONText.array([label])
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String]
        #expect(parsed == [label])
    }

    @Test func float32ProbabilitiesAreWrittenAsTheShortestDecimalThatReadsBack() throws {
        #expect(JSONText.object(["Sa": 0.1, "Sb": 0.7, "Sc": 0.2]) == #"{"Sa":0.1,"Sb":0.7,"Sc":0.2}"#)
        #expect(JSONText.array([Float(0.1), 1, 3.3e-5]) == "[0.1,1,3.3e-05]")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let value = Float.random(in: 0...1, using: &generator) * (Bool.random() ? 1 : 1e-6)
            let text = JSONText.number(value)
            let parsed = try JSONSerialization.jsonObject(with: Data("[\(text)]".utf8)) as? [Double]
            #expect(parsed.map { Float($0[0]) } == value, "\(value) written as \(text)")
            #expect(text.count <= value.description.count)
        }
    }

    /// What PostgreSQL keeps of the text: jsonb numbers are exact decimals, so 0.1 stays 0.1.
    @Test func postgresStoresTheDecimalAsWritten() throws {
        let f = try ServiceFixture(prefix: "json_numbers")
        let json = PostgresJSONB(JSONText.object(["Sa": 0.1, "Sb": 0.9]))
        #expect(try f.scalar("select (\(json)::jsonb ->> 'Sa')", as: String.self) == "0.1")
        #expect(try f.scalar("select (\(json)::jsonb ->> 'Sb')::real = 0.9::real", as: Bool.self))
    }

    @Test func nonFiniteNumbersBecomeNull() {
        #expect(JSONText.array([1.5, .nan, .infinity, 3]) == "[1.5,null,null,3]")
    }
}
