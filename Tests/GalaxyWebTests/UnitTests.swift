import GalaxyImage
import Testing
@testable import GalaxyWeb

/// Uploads are refused by the one JPEG validator, with the status its code calls for.
@Suite struct UploadRefusalTests {
    static func code(_ bytes: [UInt8]) -> String? {
        do throws(ImageError) {
            try JPEGValidator().validate(bytes, depth: .decode)
            return nil
        } catch {
            return ImageValidation.refusal(error, name: "x.jpg").code
        }
    }

    @Test func acceptsACompleteJPEG() {
        #expect(Self.code(Fixtures.jpeg()) == nil)
    }

    @Test func refusesEmptyForeignAndTruncatedBodies() {
        let jpeg = Fixtures.jpeg()
        #expect(Self.code([]) == "empty_body")
        #expect(Self.code(Array("GIF89a not a jpeg at all".utf8)) == "not_jpeg")
        #expect(Self.code([0x89, 0x50, 0x4E, 0x47] + jpeg) == "not_jpeg")
        #expect(Self.code(Array(jpeg.prefix(jpeg.count / 2))) == "truncated_jpeg")
        #expect(Self.code(Array(jpeg.prefix(40))) == "truncated_jpeg")
    }
}

@Suite struct MultipartTests {
    @Test func splitsFilePartsAndReadsTheirNames() throws {
        let boundary = "XyZ123"
        var body: [UInt8] = []
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
        body += [0xFF, 0xD8, 0xFF, 0x0D, 0x0A, 0x2D]
        body += Array("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"b c.jpg\"\r\n\r\n".utf8)
        body += [1, 2, 3]
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        #expect(Multipart.boundary(contentType: "multipart/form-data; boundary=\"XyZ123\"") == boundary)
        let parts = try #require(Multipart.parse(body, boundary: boundary))
        #expect(parts.count == 2)
        #expect(parts[0].filename == "a.jpg")
        #expect(parts[0].body == [0xFF, 0xD8, 0xFF, 0x0D, 0x0A, 0x2D])
        #expect(parts[1].filename == "b c.jpg")
        #expect(parts[1].body == [1, 2, 3])
    }

    @Test func refusesABodyWithoutItsBoundary() {
        #expect(Multipart.parse(Array("no parts here".utf8), boundary: "abc") == nil)
        #expect(Multipart.boundary(contentType: "image/jpeg") == nil)
    }
}

@Suite struct RateLimiterTests {
    @Test func allowsTheBurstThenRefillsAtTheRate() throws {
        let limiter = RateLimiter(limit: RateLimit(perSecond: 2, burst: 3))
        for _ in 0..<3 { #expect(limiter.take(1, now: 100) == nil) }
        let wait = try #require(limiter.take(1, now: 100))
        #expect(abs(wait - 0.5) < 1e-9)
        // Another token has its own bucket.
        #expect(limiter.take(2, now: 100) == nil)
        // Half a second later one request is allowed again, and only one.
        #expect(limiter.take(1, now: 100.5) == nil)
        #expect(limiter.take(1, now: 100.5) != nil)
        // After a long pause the bucket is full but not above the burst.
        for _ in 0..<3 { #expect(limiter.take(1, now: 1000) == nil) }
        #expect(limiter.take(1, now: 1000) != nil)
    }
}

@Suite struct TokenSecretTests {
    @Test func secretsAreWellFormedAndDistinct() {
        let a = APITokenSecret.generate()
        let b = APITokenSecret.generate()
        #expect(a != b)
        #expect(APITokenSecret.isWellFormed(a))
        #expect(!APITokenSecret.isWellFormed("gxy_short"))
        #expect(!APITokenSecret.isWellFormed(String(a.dropFirst(4))))
        #expect(TokenScope.write.allows(.read))
        #expect(!TokenScope.read.allows(.write))
    }
}
