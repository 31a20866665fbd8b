import Foundation
import Testing

@testable import GalaxyImage

/// The one recorded form of the preprocessing: written by the daemon, read back by the web API.
@Suite struct PreprocessRecordTests {
    @Test func everyFieldRoundTripsExactly() throws {
        let options = PreprocessOptions(
            cropFraction: 0.26, size: 64, decodeScale: .quarter, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
        let text = options.json
        #expect(text == #"{"crop_fraction":0.26,"decode_scale":"1/4","mean":[0.485,0.456,0.406],"size":64,"std":[0.229,0.224,0.225]}"#)
        #expect(try PreprocessOptions(json: text) == options)
        let plain = PreprocessOptions(cropFraction: 0.3, size: 50, decodeScale: .full)
        #expect(plain.json == #"{"crop_fraction":0.3,"decode_scale":"1","size":50}"#)
        #expect(try PreprocessOptions(json: plain.json) == plain)
    }

    @Test func aMissingOrWrongMemberIsAnErrorNamingIt() {
        let cases: [(String, String)] = [
            (#"{"crop_fraction":0.26,"size":50}"#, "decode_scale"),
            (#"{"decode_scale":"1","size":50}"#, "crop_fraction"),
            (#"{"crop_fraction":0.26,"decode_scale":"1/3","size":50}"#, "1/3"),
            (#"{"crop_fraction":0.7,"decode_scale":"1","size":50}"#, "crop fraction 0.7"),
            (#"{"crop_fraction":0.26,"decode_scale":"1","size":"big"}"#, "size"),
            (#"{"crop_fraction":0.26,"decode_scale":"1","size":50,"mean":[0.5]}"#, "mean has 1 values"),
            ("not json", "cannot be used"),
        ]
        for (json, named) in cases {
            do {
                _ = try PreprocessOptions(json: json)
                Issue.record("\(json) was accepted")
            } catch {
                #expect(error.description.contains(named), "\(json): \(error)")
            }
        }
    }
}
