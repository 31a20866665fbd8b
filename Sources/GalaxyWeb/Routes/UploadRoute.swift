import Foundation
import Hummingbird
import NIOCore

extension WebAPI {
    /// `POST /v1/predictions`: a JPEG body (or multipart with several), stored in one statement
    /// after every check passed, then a bounded wait for the predictions.
    func upload(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        try await auth.authorize(request, scope: .write)
        let wait = try waitDuration(request)
        let limit = config.maxUploadBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Self.tooLarge(limit)
        }
        let body: [UInt8]
        do {
            var buffer = try await request.body.collect(upTo: limit)
            body = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Self.tooLarge(limit)
        }

        let images = try Self.images(in: body, contentType: request.headers[.contentType], maxImages: config.maxImagesPerUpload)
        try await ImageValidation.validate(images)

        let storeStart = ContinuousClock.now
        let ids = try await store.insertImages(images.map(\.bytes))
        let storeMs = Self.milliseconds(ContinuousClock.now - storeStart)
        metrics.uploaded(bytes: images.reduce(0) { $0 + $1.bytes.count })

        let done = await waiter.wait(for: ids, timeout: wait)
        let totalMs = Self.milliseconds(ContinuousClock.now - started)
        var bodies: [PredictionBody] = []
        for (id, image) in zip(ids, images) {
            var item = done[id] ?? PredictionBody(id: id, status: "queued")
            var timings = item.timings ?? Timings()
            timings.storeMs = storeMs
            timings.totalMs = totalMs
            item.timings = timings
            item.filename = image.name
            bodies.append(item)
        }
        let pending = bodies.contains { $0.status == "queued" }
        let status: HTTPResponse.Status = pending ? .accepted : .ok
        if images.count == 1 && !images[0].fromMultipart {
            return try JSONResponse.make(bodies[0], status: status, headers: [.location: "/v1/predictions/\(ids[0])"])
        }
        return try JSONResponse.make(PredictionList(predictions: bodies), status: status)
    }

    /// One uploaded image and the name the client gave it.
    struct UploadedImage: Sendable {
        var name: String?
        var bytes: [UInt8]
        var fromMultipart: Bool
    }

    static func images(in body: [UInt8], contentType: String?, maxImages: Int) throws -> [UploadedImage] {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/") else {
            return [UploadedImage(name: nil, bytes: body, fromMultipart: false)]
        }
        guard let boundary = Multipart.boundary(contentType: contentType),
            let parts = Multipart.parse(body, boundary: boundary)
        else {
            throw APIError.badRequest(
                "The multipart body could not be read: send multipart/form-data with a boundary and one part per JPEG.",
                code: "invalid_multipart")
        }
        let files = parts.filter { $0.filename != nil || $0.name == "image" || $0.name == "images" }
        if files.isEmpty {
            throw APIError.badRequest("The multipart body holds no file part; send each JPEG as a file part named 'image'.", code: "no_images")
        }
        if files.count > maxImages {
            throw APIError(
                .contentTooLarge, code: "too_many_images",
                "The upload holds \(files.count) images; at most \(maxImages) are accepted per request.")
        }
        return files.enumerated().map { index, part in
            UploadedImage(name: part.filename ?? "image \(index + 1)", bytes: part.body, fromMultipart: true)
        }
    }

    func waitDuration(_ request: Request) throws -> Duration {
        guard let text = request.uri.queryParameters["wait"] else { return config.predictionTimeout }
        guard let seconds = Double(text), seconds >= 0, seconds <= 120 else {
            throw APIError.badRequest("'wait' must be a number of seconds from 0 to 120.", code: "invalid_parameter")
        }
        return .milliseconds(Int64(seconds * 1000))
    }

    static func tooLarge(_ limit: Int) -> APIError {
        APIError(
            .contentTooLarge, code: "body_too_large",
            "The request body is larger than the upload limit of \(limit) bytes (\(limit / (1024 * 1024)) MB); send smaller images or fewer per request.")
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return (Double(seconds) * 1000 + Double(attoseconds) / 1e15).rounded(toPlaces: 3)
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10.0, Double(places))
        return (self * scale).rounded() / scale
    }
}
