import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import GalaxyWeb

/// Round trips through the real router, database and SQL protocol.
@Suite(.serialized) struct APITests {
    static func config(_ db: WebTestDatabase, _ change: (inout WebConfiguration) -> Void = { _ in }) -> WebConfiguration {
        var config = WebConfiguration()
        config.port = 0
        config.database = db.conninfo
        config.databaseConnections = 2
        config.predictionTimeout = .seconds(20)
        change(&config)
        return config
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        let data = Data(buffer: response.body)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func errorCode(_ response: TestResponse) throws -> String? {
        (try json(response)["error"] as? [String: Any])?["code"] as? String
    }

    @Test func uploadWaitsForThePredictionAndEveryReadRouteFindsIt() async throws {
        let db = try WebTestDatabase()
        defer { db.drop() }
        let scorer = try SimulatedScorer(conninfo: db.conninfo)
        defer { scorer.stop() }
        let writer = try db.token("uploader", scope: .write)
        let app = try await buildApplication(Self.config(db))
        try await app.test(.router) { client in
            let jpeg = Fixtures.jpeg()
            var headers = Self.bearer(writer)
            headers[.contentType] = "image/jpeg"
            let upload = try await client.execute(
                uri: "/v1/predictions", method: .post, headers: headers, body: ByteBuffer(bytes: jpeg))
            #expect(upload.status == .ok)
            let body = try Self.json(upload)
            #expect(body["status"] as? String == "done")
            #expect(body["label"] as? String == "Sb")
            #expect(body["class"] as? String == "Spiral")
            let probabilities = try #require(body["probabilities"] as? [String: Double])
            #expect(probabilities.count == 13)
            #expect(abs((probabilities["Sb"] ?? 0) - 0.88) < 1e-6)
            #expect((body["model"] as? [String: Any])?["name"] as? String == "test-cnn")
            #expect((body["model"] as? [String: Any])?["precision"] as? String == "fp32")
            let timings = try #require(body["timings"] as? [String: Double])
            #expect(abs((timings["inference_ms"] ?? 0) - 3.5) < 1e-6)
            #expect((timings["total_ms"] ?? -1) >= 0)
            let id = try #require(body["id"] as? Int)

            let again = try await client.execute(uri: "/v1/predictions/\(id)", method: .get, headers: Self.bearer(writer))
            #expect(again.status == .ok)
            #expect(try Self.json(again)["label"] as? String == "Sb")

            // The precision is the prediction's own record, as a bf16 variant writes it.
            _ = try db.admin.execute("update galaxy.predictions set precision = 'bf16' where image_id = \(Int64(id))")
            let variant = try await client.execute(uri: "/v1/predictions/\(id)", method: .get, headers: Self.bearer(writer))
            #expect((try Self.json(variant)["model"] as? [String: Any])?["precision"] as? String == "bf16")

            let input = try await client.execute(uri: "/v1/images/\(id)/input.png", method: .get, headers: Self.bearer(writer))
            #expect(input.status == .ok)
            #expect(Array(buffer: input.body).prefix(4) == [0x89, 0x50, 0x4E, 0x47])

            let image = try await client.execute(uri: "/v1/images/\(id)", method: .get, headers: Self.bearer(writer))
            #expect(image.status == .ok)
            #expect(image.headers[.contentType] == "image/jpeg")
            #expect(Array(buffer: image.body) == jpeg)

            let recent = try await client.execute(uri: "/v1/predictions?class=Spiral&limit=5", method: .get, headers: Self.bearer(writer))
            #expect(recent.status == .ok)
            let list = try #require(try Self.json(recent)["predictions"] as? [[String: Any]])
            #expect(list.map { $0["id"] as? Int } == [id])
            let none = try await client.execute(uri: "/v1/predictions?class=Elliptical", method: .get, headers: Self.bearer(writer))
            #expect((try Self.json(none)["predictions"] as? [Any])?.count == 0)

            let models = try await client.execute(uri: "/v1/models", method: .get, headers: Self.bearer(writer))
            let modelList = try #require(try Self.json(models)["models"] as? [[String: Any]])
            #expect(modelList.first?["active"] as? Bool == true)
            #expect(modelList.first?["predictions"] as? Int == 1)

            let status = try await client.execute(uri: "/v1/status", method: .get, headers: Self.bearer(writer))
            #expect(try Self.json(status)["predictions"] as? Int == 1)

            let metrics = try await client.execute(uri: "/metrics", method: .get, headers: Self.bearer(writer))
            let text = String(buffer: metrics.body)
            #expect(text.contains("galaxy_http_requests_total{method=\"POST\",route=\"/v1/predictions\",status=\"200\"} 1"))
        }
    }

    @Test func multipartUploadStoresEveryImageInOneRequest() async throws {
        let db = try WebTestDatabase()
        defer { db.drop() }
        let scorer = try SimulatedScorer(conninfo: db.conninfo)
        defer { scorer.stop() }
        let writer = try db.token("uploader", scope: .write)
        let app = try await buildApplication(Self.config(db))
        try await app.test(.router) { client in
            let (body, contentType) = Self.multipart([("a.jpg", Fixtures.jpeg()), ("b.jpg", Fixtures.jpeg("round.jpg"))])
            var headers = Self.bearer(writer)
            headers[.contentType] = contentType
            let response = try await client.execute(uri: "/v1/predictions", method: .post, headers: headers, body: ByteBuffer(bytes: body))
            #expect(response.status == .ok)
            let list = try #require(try Self.json(response)["predictions"] as? [[String: Any]])
            #expect(list.map { $0["filename"] as? String } == ["a.jpg", "b.jpg"])
            #expect(list.allSatisfy { $0["status"] as? String == "done" })
        }
        #expect(try db.count("galaxy.images") == 2)
    }

    @Test func batchesStartReportAndCancel() async throws {
        let db = try WebTestDatabase()
        defer { db.drop() }
        let writer = try db.token("uploader", scope: .write)
        try db.admin.query("insert into galaxy.images (jpeg) values (\(Fixtures.jpeg())), (\(Fixtures.jpeg()))")
        try db.admin.query("delete from galaxy.queue")
        let app = try await buildApplication(Self.config(db))
        try await app.test(.router) { client in
            var headers = Self.bearer(writer)
            headers[.contentType] = "application/json"
            let started = try await client.execute(
                uri: "/v1/batches", method: .post, headers: headers, body: ByteBuffer(string: #"{"selection": "all"}"#))
            #expect(started.status == .created)
            let batch = try Self.json(started)
            let id = try #require(batch["id"] as? Int)
            #expect(batch["total"] as? Int == 2)
            #expect(batch["status"] as? String == "running")
            let cancelled = try await client.execute(uri: "/v1/batches/\(id)/cancel", method: .post, headers: Self.bearer(writer))
            #expect(cancelled.status == .ok)
            #expect(try Self.json(cancelled)["status"] as? String == "cancelled")
            let twice = try await client.execute(uri: "/v1/batches/\(id)/cancel", method: .post, headers: Self.bearer(writer))
            #expect(twice.status == .conflict)
            let injected = try await client.execute(
                uri: "/v1/batches", method: .post, headers: headers,
                body: ByteBuffer(string: #"{"selection": "select id from galaxy.images"}"#))
            #expect(injected.status == .unprocessableContent)
            let list = try await client.execute(uri: "/v1/batches", method: .get, headers: Self.bearer(writer))
            #expect((try Self.json(list)["batches"] as? [Any])?.count == 1)
        }
    }

    @Test func badRequestsGetTheirJSONErrorAndWriteNothing() async throws {
        let db = try WebTestDatabase()
        defer { db.drop() }
        let reader = try db.token("reader", scope: .read)
        let writer = try db.token("writer", scope: .write)
        let app = try await buildApplication(Self.config(db) { $0.maxUploadBytes = 4096 })
        let jpeg = Fixtures.jpeg()
        let big = jpeg + [UInt8](repeating: 0, count: 5000)
        let cases: [(String, HTTPFields, [UInt8], HTTPResponse.Status, String)] = [
            ("no token", [:], jpeg, .unauthorized, "missing_token"),
            ("unknown token", Self.bearer(APITokenSecret.generate()), jpeg, .unauthorized, "invalid_token"),
            ("malformed token", Self.bearer("abc"), jpeg, .unauthorized, "invalid_token"),
            ("read scope", Self.bearer(reader), jpeg, .forbidden, "insufficient_scope"),
            ("not a JPEG", Self.bearer(writer), Array("hello, not an image".utf8), .unsupportedMediaType, "not_jpeg"),
            ("PNG", Self.bearer(writer), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + jpeg, .unsupportedMediaType, "not_jpeg"),
            ("truncated", Self.bearer(writer), Array(jpeg.prefix(jpeg.count * 2 / 3)), .unprocessableContent, "truncated_jpeg"),
            ("empty", Self.bearer(writer), [], .badRequest, "empty_body"),
            ("oversize", Self.bearer(writer), big, .contentTooLarge, "body_too_large"),
        ]
        try await app.test(.router) { client in
            for (name, headers, body, status, code) in cases {
                let response = try await client.execute(
                    uri: "/v1/predictions", method: .post, headers: headers, body: ByteBuffer(bytes: body))
                #expect(response.status == status, "\(name)")
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, "\(name)")
                #expect(try Self.errorCode(response) == code, "\(name)")
            }
            // A multipart upload with one bad part stores none of its parts.
            let (body, contentType) = Self.multipart([("good.jpg", jpeg), ("bad.jpg", Array(jpeg.prefix(200)))])
            var headers = Self.bearer(writer)
            headers[.contentType] = contentType
            let mixed = try await client.execute(uri: "/v1/predictions", method: .post, headers: headers, body: ByteBuffer(bytes: body))
            #expect(mixed.status == .unprocessableContent)
            #expect(String(buffer: mixed.body).contains("bad.jpg"))

            for uri in ["/v1/predictions/999999", "/v1/images/999999", "/v1/images/999999/input.png", "/v1/batches/999999"] {
                let response = try await client.execute(uri: uri, method: .get, headers: Self.bearer(reader))
                #expect(response.status == .notFound, "\(uri)")
                #expect(try Self.errorCode(response) == "not_found", "\(uri)")
            }
            let badID = try await client.execute(uri: "/v1/predictions/abc", method: .get, headers: Self.bearer(reader))
            #expect(badID.status == .badRequest)
            let noRoute = try await client.execute(uri: "/v1/nothing", method: .get, headers: Self.bearer(reader))
            #expect(noRoute.status == .notFound)
            #expect(try Self.errorCode(noRoute) == "not_found")
            let readNoToken = try await client.execute(uri: "/v1/models", method: .get)
            #expect(readNoToken.status == .unauthorized)
            let activateWithRead = try await client.execute(uri: "/v1/models/\(db.modelID)/activate", method: .post, headers: Self.bearer(reader))
            #expect(activateWithRead.status == .forbidden)
        }
        #expect(try db.count("galaxy.images") == 0)
        #expect(try db.count("galaxy.queue") == 0)
        #expect(try db.count("galaxy.batches") == 0)
    }

    @Test func tokensAreRateLimitedAndOpenReadNeedsNoTokenForReadsOnly() async throws {
        let db = try WebTestDatabase()
        defer { db.drop() }
        let reader = try db.token("reader", scope: .read)
        let app = try await buildApplication(Self.config(db) {
            $0.rateLimit = RateLimit(perSecond: 0.001, burst: 3)
            $0.openRead = true
        })
        try await app.test(.router) { client in
            for _ in 0..<3 {
                let ok = try await client.execute(uri: "/v1/models", method: .get, headers: Self.bearer(reader))
                #expect(ok.status == .ok)
            }
            let limited = try await client.execute(uri: "/v1/models", method: .get, headers: Self.bearer(reader))
            #expect(limited.status == .tooManyRequests)
            #expect(try Self.errorCode(limited) == "rate_limited")
            #expect(limited.headers[.retryAfter] != nil)
            let anonymous = try await client.execute(uri: "/v1/status", method: .get)
            #expect(anonymous.status == .ok)
            let anonymousWrite = try await client.execute(
                uri: "/v1/predictions", method: .post, body: ByteBuffer(bytes: Fixtures.jpeg()))
            #expect(anonymousWrite.status == .unauthorized)
        }
        #expect(try db.count("galaxy.images") == 0)
    }

    @Test func healthAndReadinessFollowTheDatabaseAndTheActiveModel() async throws {
        let db = try WebTestDatabase()
        defer { db.drop() }
        let app = try await buildApplication(Self.config(db))
        try await app.test(.router) { client in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(try Self.json(ready)["active_model"] as? String == "test-cnn")
            try db.admin.query("update galaxy.models set active = false")
            let notReady = try await client.execute(uri: "/readyz", method: .get)
            #expect(notReady.status == .serviceUnavailable)
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(String(buffer: page.body).contains("<html"))
            let spec = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(try Self.json(spec)["openapi"] as? String == "3.1.0")
        }
    }

    static func multipart(_ files: [(String, [UInt8])]) -> ([UInt8], String) {
        let boundary = "galaxy-test-boundary-7d1f"
        var body: [UInt8] = []
        for (name, bytes) in files {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"\(name)\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
            body += bytes
            body += Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return (body, "multipart/form-data; boundary=\(boundary)")
    }
}
