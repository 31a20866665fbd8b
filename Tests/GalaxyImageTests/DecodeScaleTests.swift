import GalaxyImage
import Testing

@Suite struct DecodeScaleTests {
    @Test(arguments: [("1", DecodeScale.full), ("1/2", .half), ("1/4", .quarter), ("1/8", .eighth)])
    func metadataRoundTrips(text: String, scale: DecodeScale) {
        #expect(DecodeScale(metadataValue: text) == scale)
        #expect(scale.metadataValue == text)
    }

    @Test func rejectsOtherScales() {
        #expect(DecodeScale(metadataValue: "1/3") == nil)
        #expect(DecodeScale(metadataValue: "") == nil)
        #expect(DecodeScale(metadataValue: "2") == nil)
    }

    @Test func scaledSizesRoundUpLikeLibjpeg() {
        #expect(DecodeScale.quarter.scaled(424) == 106)
        #expect(DecodeScale.eighth.scaled(424) == 53)
        #expect(DecodeScale.half.scaled(425) == 213)
    }

    @Test func cropMarginsMatchTheContract() {
        let options = PreprocessOptions()
        #expect(options.cropMargin(424) == 110)  // 424x424 keeps its central 204x204
        #expect(options.cropMargin(106) == 28)
        #expect(PreprocessOptions(cropFraction: 0.25).cropMargin(50) == 13)  // halves round up
    }
}
