import GalaxyService
import Testing

/// The scoring socket's wire format, both directions, and its refusals.
struct ScoringFramesTests {
    private let request = ScoringFrames.Request(
        modelID: 0x1_0000_0002, modelName: "cnn-v2", modelSHA256: String(repeating: "ab", count: 32),
        jpegs: [[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]])

    @Test func aRequestReadsBackAsSent() throws {
        let frame = ScoringFrames.encode(request)
        let (length, many) = try ScoringFrames.requestBodyLength(header: Array(frame.prefix(8)), maxBody: 1 << 20)
        #expect(length == frame.count - 8)
        #expect(!many)
        #expect(try ScoringFrames.decodeRequest(body: Array(frame.dropFirst(8))) == request)

        var several = request
        several.jpegs = [[0xFF, 0xD8, 0xFF, 1], [], [0xFF, 0xD8, 0xFF, 2, 3]]
        several.many = true
        let manyFrame = ScoringFrames.encode(several)
        let header = try ScoringFrames.requestBodyLength(header: Array(manyFrame.prefix(8)), maxBody: 1 << 20)
        #expect(header.many)
        #expect(try ScoringFrames.decodeRequest(body: Array(manyFrame.dropFirst(8)), many: true) == several)
    }

    @Test func repliesReadBackAsSent() throws {
        let scored = ScoringFrames.Reply.scored(
            label: "Sb", galaxyClass: "Spiral", probabilitiesJSON: #"{"Sb":1}"#, model: "m", modelSHA256: "00",
            preprocessingJSON: "{}", timingsJSON: #"{"batch_size":1}"#)
        let failed = ScoringFrames.Reply.failed(code: "corrupt_image", message: "bad", hint: "fix it")
        #expect(try ScoringFrames.decodeReply(frame: ScoringFrames.encode(scored)) == scored)
        #expect(try ScoringFrames.decodeReply(frame: ScoringFrames.encode(failed)) == failed)
        #expect(try ScoringFrames.decodeManyReply(frame: ScoringFrames.encode(many: [scored, failed])) == [scored, failed])
    }

    @Test func malformedRequestsAreRefusedWithTheReason() throws {
        #expect(throws: ScoringFrames.FrameError.self) {
            _ = try ScoringFrames.requestBodyLength(header: Array("GET / HT".utf8), maxBody: 100)
        }
        let frame = ScoringFrames.encode(request)
        do {
            _ = try ScoringFrames.requestBodyLength(header: Array(frame.prefix(8)), maxBody: 10)
            Issue.record("an oversized body was accepted")
        } catch {
            #expect(error.description.contains("more than --scoring-socket-max-bytes"))
        }
        for cut in [1, 9, 12, frame.count - 9] {
            do {
                _ = try ScoringFrames.decodeRequest(body: Array(frame.dropFirst(8).prefix(cut)))
                Issue.record("a request cut after \(cut) bytes was accepted")
            } catch {
                #expect(error.description.contains("cut off"), "\(error)")
            }
        }
        do {
            _ = try ScoringFrames.decodeRequest(body: Array(frame.dropFirst(8)) + [0])
            Issue.record("trailing bytes were accepted")
        } catch {
            #expect(error.description.contains("after the last image"))
        }
        var several = request
        several.many = true
        several.jpegs = Array(repeating: [0xFF], count: ScoringFrames.maxImagesPerRequest + 1)
        do {
            _ = try ScoringFrames.decodeRequest(body: Array(ScoringFrames.encode(several).dropFirst(8)), many: true)
            Issue.record("too many images were accepted")
        } catch {
            #expect(error.description.contains("1 to 1024"))
        }
    }
}
