import Foundation
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

    @Test func nonFiniteNumbersBecomeNull() {
        #expect(JSONText.array([1.5, .nan, .infinity, 3]) == "[1.5,null,null,3]")
    }
}
