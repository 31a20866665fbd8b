import Foundation
import GalaxyPostgres
import HTTPTypes
import Hummingbird

/// An error answered to the client as JSON: `{"error": {"status": 415, "code": "not_jpeg", "message": "..."}}`.
///
/// `code` is stable and meant for programs; `message` says what was wrong and what to do.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible, Sendable {
    /// The HTTP status answered.
    public var status: HTTPResponse.Status
    /// A stable, machine-readable code (`missing_token`, `not_jpeg`, ...).
    public var code: String
    /// What failed and what to do, for people.
    public var message: String
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(
            status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: jsonBody)))
    }

    /// The JSON document sent for this error.
    var jsonBody: [UInt8] {
        struct Body: Encodable {
            struct Inner: Encodable { var status: Int; var code: String; var message: String }
            var error: Inner
        }
        let body = Body(error: .init(status: status.code, code: code, message: message))
        return Array((try? JSONEncoder().encode(body)) ?? Data("{}".utf8))
    }
}

extension APIError {
    static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "not_found", "\(what) does not exist.")
    }

    static func badRequest(_ message: String, code: String = "bad_request") -> APIError {
        APIError(.badRequest, code: code, message)
    }
}

/// Turns every error that leaves a handler into a JSON error, so clients always get one shape:
/// Hummingbird's own errors (unknown route, body too large) and unexpected failures too.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            throw APIError(
                error.status, code: Self.code(for: error.status),
                error.body ?? Self.message(for: error.status, request: request), headers: error.headers)
        } catch let error as PostgresError where error.sqlState?.hasPrefix("GZ") == true {
            // The SQL interface refused (unknown model, batch not running...): the client's fault.
            let hint = error.hint.map { " \($0)" } ?? ""
            throw APIError(.conflict, code: "rejected", error.message + hint)
        } catch {
            context.logger.error(
                "request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIError(
                .internalServerError, code: "internal_error",
                "The server failed to answer this request; the server log has the details.")
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: return "bad_request"
        case 404: return "not_found"
        case 405: return "method_not_allowed"
        case 413: return "body_too_large"
        case 415: return "unsupported_media_type"
        default: return status.code < 500 ? "client_error" : "internal_error"
        }
    }

    static func message(for status: HTTPResponse.Status, request: Request) -> String {
        switch status.code {
        case 404: return "No endpoint at \(request.method) \(request.uri.path); /openapi.json lists them."
        case 413: return "The request body is larger than the upload limit."
        default: return status.reasonPhrase
        }
    }
}
