/// The scoring socket's wire format, shared with the galaxy library's client (sql/src/scoring_socket.c);
/// docs/scoring-socket.md describes it. Integers are big-endian.
///
/// Request: `GZQ1`, u32 body length, then the body: u64 model id, u16 + model name, u16 + model
/// sha256 (hex), u32 + JPEG bytes. `GZM1` (galaxy.classify_many) has a u32 image count before the
/// images, each u32 + bytes.
/// Reply: `GZR1`, u32 body length, then the body: u8 status, u16 field count, and each field as
/// u32 + UTF-8. `GZN1` answers `GZM1`: u32 count, then each reply body as u32 + bytes. Status 0 carries label, class, probabilities, model, model sha256, preprocessing
/// and timings (JSON texts where JSON); status 1 carries code, message and hint. (The backend
/// hashes the image itself, with PostgreSQL's OpenSSL-backed sha256.)
public enum ScoringFrames {
    static let requestMagic: [UInt8] = Array("GZQ1".utf8)
    static let replyMagic: [UInt8] = Array("GZR1".utf8)
    static let manyRequestMagic: [UInt8] = Array("GZM1".utf8)
    static let manyReplyMagic: [UInt8] = Array("GZN1".utf8)
    /// The most images one `GZM1` request may carry (as `SCORING_MAX_IMAGES` in the client).
    public static let maxImagesPerRequest = 1024
    /// Bytes before a frame's body: magic and length.
    public static let headerLength = 8

    /// One request as read from a backend: one image (`GZQ1`) or several (`GZM1`).
    public struct Request: Sendable, Hashable {
        public var modelID: Int64
        public var modelName: String
        public var modelSHA256: String
        public var jpegs: [[UInt8]]
        /// Whether it came as `GZM1` and is answered with `GZN1`.
        public var many: Bool

        public init(modelID: Int64, modelName: String, modelSHA256: String, jpegs: [[UInt8]], many: Bool = false) {
            self.modelID = modelID
            self.modelName = modelName
            self.modelSHA256 = modelSHA256
            self.jpegs = jpegs
            self.many = many
        }
    }

    /// A reply: a score, or why there is none.
    public enum Reply: Sendable, Hashable {
        case scored(label: String, galaxyClass: String, probabilitiesJSON: String, model: String,
                    modelSHA256: String, preprocessingJSON: String, timingsJSON: String)
        case failed(code: String, message: String, hint: String)
    }

    /// Why bytes from a peer are not a request; the connection is closed after replying it.
    public struct FrameError: Error, Hashable, CustomStringConvertible {
        public var description: String
    }

    /// The body length a request header announces, and whether it is a `GZM1` request.
    /// - Throws: `FrameError` for a wrong magic or a body over `maxBody` bytes.
    public static func requestBodyLength(header: [UInt8], maxBody: Int) throws(FrameError) -> (length: Int, many: Bool) {
        guard header.count == headerLength else { throw FrameError(description: "the request header is cut off") }
        let magic = Array(header[0..<4])
        guard magic == requestMagic || magic == manyRequestMagic else {
            throw FrameError(description: "the request does not start with GZQ1 or GZM1: not a galaxy.classify client")
        }
        let length = Int(readU32(header, at: 4))
        guard length <= maxBody else {
            throw FrameError(
                description: "the request has \(length) bytes, more than --scoring-socket-max-bytes allows (\(maxBody))")
        }
        return (length, magic == manyRequestMagic)
    }

    /// Parses a request body.
    /// - Throws: `FrameError` naming the field that is cut off or the bytes left over.
    public static func decodeRequest(body: [UInt8], many: Bool = false) throws(FrameError) -> Request {
        var reader = Reader(bytes: body)
        let high = try reader.u32("model id")
        let low = try reader.u32("model id")
        let name = try reader.text(lengthBytes: 2, "model name")
        let sha = try reader.text(lengthBytes: 2, "model sha256")
        let count = many ? Int(try reader.u32("image count")) : 1
        guard (1...maxImagesPerRequest).contains(count) else {
            throw FrameError(description: "\(count) images in one request; 1 to \(maxImagesPerRequest) are accepted")
        }
        var jpegs: [[UInt8]] = []
        for index in 0..<count {
            let jpegLength = Int(try reader.u32("image \(index + 1) length"))
            jpegs.append(try reader.bytes(jpegLength, "image \(index + 1)"))
        }
        guard reader.offset == body.count else {
            throw FrameError(description: "\(body.count - reader.offset) bytes after the last image")
        }
        return Request(
            modelID: Int64(bitPattern: UInt64(high) << 32 | UInt64(low)), modelName: name, modelSHA256: sha,
            jpegs: jpegs, many: many)
    }

    /// A request frame (what the C client sends; for tests and benchmarks).
    public static func encode(_ request: Request) -> [UInt8] {
        var body: [UInt8] = []
        let id = UInt64(bitPattern: request.modelID)
        appendU32(&body, UInt32(truncatingIfNeeded: id >> 32))
        appendU32(&body, UInt32(truncatingIfNeeded: id))
        appendText(&body, request.modelName, lengthBytes: 2)
        appendText(&body, request.modelSHA256, lengthBytes: 2)
        if request.many { appendU32(&body, UInt32(request.jpegs.count)) }
        for jpeg in request.jpegs {
            appendU32(&body, UInt32(jpeg.count))
            body += jpeg
        }
        return frame(magic: request.many ? manyRequestMagic : requestMagic, body: body)
    }

    /// The `GZN1` frame answering a `GZM1` request.
    public static func encode(many replies: [Reply]) -> [UInt8] {
        var body: [UInt8] = []
        appendU32(&body, UInt32(replies.count))
        for reply in replies {
            let part = Array(encode(reply).dropFirst(headerLength))
            appendU32(&body, UInt32(part.count))
            body += part
        }
        return frame(magic: manyReplyMagic, body: body)
    }

    /// A reply frame.
    public static func encode(_ reply: Reply) -> [UInt8] {
        let status: UInt8
        let fields: [String]
        switch reply {
        case .scored(let label, let galaxyClass, let probabilities, let model, let modelSHA, let preprocessing, let timings):
            status = 0
            fields = [label, galaxyClass, probabilities, model, modelSHA, preprocessing, timings]
        case .failed(let code, let message, let hint):
            status = 1
            fields = [code, message, hint]
        }
        var body: [UInt8] = [status, UInt8(fields.count >> 8), UInt8(fields.count & 0xFF)]
        for field in fields { appendText(&body, field, lengthBytes: 4) }
        return frame(magic: replyMagic, body: body)
    }

    /// Parses a whole reply frame (the client's side; for tests and benchmarks).
    public static func decodeReply(frame: [UInt8]) throws(FrameError) -> Reply {
        guard frame.count >= headerLength, Array(frame[0..<4]) == replyMagic,
            Int(readU32(frame, at: 4)) == frame.count - headerLength
        else { throw FrameError(description: "not a GZR1 frame of its announced length") }
        return try decodeReply(body: Array(frame[headerLength...]))
    }

    /// Parses a whole `GZN1` frame into its replies.
    public static func decodeManyReply(frame: [UInt8]) throws(FrameError) -> [Reply] {
        guard frame.count >= headerLength, Array(frame[0..<4]) == manyReplyMagic,
            Int(readU32(frame, at: 4)) == frame.count - headerLength
        else { throw FrameError(description: "not a GZN1 frame of its announced length") }
        var reader = Reader(bytes: Array(frame[headerLength...]))
        let count = Int(try reader.u32("reply count"))
        var replies: [Reply] = []
        for index in 0..<count {
            let length = Int(try reader.u32("reply \(index + 1) length"))
            replies.append(try decodeReply(body: try reader.bytes(length, "reply \(index + 1)")))
        }
        return replies
    }

    private static func decodeReply(body: [UInt8]) throws(FrameError) -> Reply {
        var reader = Reader(bytes: body)
        let status = try reader.bytes(1, "status")[0]
        let countBytes = try reader.bytes(2, "field count")
        let count = Int(countBytes[0]) << 8 | Int(countBytes[1])
        var fields: [String] = []
        for index in 0..<count { fields.append(try reader.text(lengthBytes: 4, "field \(index)")) }
        switch (status, fields.count) {
        case (0, 7):
            return .scored(
                label: fields[0], galaxyClass: fields[1], probabilitiesJSON: fields[2], model: fields[3],
                modelSHA256: fields[4], preprocessingJSON: fields[5], timingsJSON: fields[6])
        case (1, 3):
            return .failed(code: fields[0], message: fields[1], hint: fields[2])
        default:
            throw FrameError(description: "status \(status) with \(fields.count) fields")
        }
    }

    private static func frame(magic: [UInt8], body: [UInt8]) -> [UInt8] {
        var out = magic
        appendU32(&out, UInt32(body.count))
        return out + body
    }

    private static func appendU32(_ out: inout [UInt8], _ value: UInt32) {
        out += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    private static func appendText(_ out: inout [UInt8], _ text: String, lengthBytes: Int) {
        let bytes = Array(text.utf8)
        if lengthBytes == 2 {
            out += [UInt8((bytes.count >> 8) & 0xFF), UInt8(bytes.count & 0xFF)]
        } else {
            appendU32(&out, UInt32(bytes.count))
        }
        out += bytes
    }

    static func readU32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }

    /// Reads fields off a body, failing with the name of the field that is cut off.
    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func bytes(_ count: Int, _ field: String) throws(FrameError) -> [UInt8] {
            guard count >= 0, bytes.count - offset >= count else {
                throw FrameError(description: "the request is cut off in its \(field)")
            }
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }

        mutating func u32(_ field: String) throws(FrameError) -> UInt32 {
            let four = try bytes(4, field)
            return ScoringFrames.readU32(four, at: 0)
        }

        mutating func text(lengthBytes: Int, _ field: String) throws(FrameError) -> String {
            let length: Int
            if lengthBytes == 2 {
                let two = try bytes(2, field)
                length = Int(two[0]) << 8 | Int(two[1])
            } else {
                length = Int(try u32(field))
            }
            return String(decoding: try bytes(length, field), as: UTF8.self)
        }
    }
}
