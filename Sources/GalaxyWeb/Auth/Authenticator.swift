import Foundation
import HTTPTypes
import Hummingbird

/// Checks the bearer token of a request, its scope and its rate limit.
///
/// Tokens are looked up by their SHA-256 in the database; answers are cached for a few seconds so a
/// burst of uploads costs one lookup, and a revoked token stops working within `cacheSeconds`.
final class Authenticator: @unchecked Sendable {
    private let store: WebStore
    private let limiter: RateLimiter
    private let openRead: Bool
    private let cacheSeconds: Double
    private let lock = NSLock()
    private var cache: [String: (identity: TokenIdentity?, expires: Double)] = [:]

    init(store: WebStore, rateLimit: RateLimit, openRead: Bool, cacheSeconds: Double = 5) {
        self.store = store
        self.limiter = RateLimiter(limit: rateLimit)
        self.openRead = openRead
        self.cacheSeconds = cacheSeconds
    }

    /// The identity behind the request's token, when it may do what `scope` asks.
    /// - Throws: `APIError` 401 (no or unknown token), 403 (scope too small), 429 (rate limited).
    @discardableResult
    func authorize(_ request: Request, scope: TokenScope) async throws -> TokenIdentity {
        let identity: TokenIdentity
        if let secret = Self.bearerToken(request) {
            guard let found = try await lookUp(secret) else {
                throw APIError(
                    .unauthorized, code: "invalid_token",
                    "The bearer token is unknown or revoked; create one with 'galaxy token create NAME --scope \(scope.rawValue)'.",
                    headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\""])
            }
            identity = found
        } else if openRead && scope == .read {
            identity = .anonymousReader
        } else {
            throw APIError(
                .unauthorized, code: "missing_token",
                "This endpoint needs a bearer token with the '\(scope.rawValue)' scope: send 'Authorization: Bearer <token>' (create one with 'galaxy token create NAME --scope \(scope.rawValue)').",
                headers: [.wwwAuthenticate: "Bearer"])
        }
        guard identity.scope.allows(scope) else {
            throw APIError(
                .forbidden, code: "insufficient_scope",
                "The token '\(identity.name)' has the '\(identity.scope.rawValue)' scope; this request needs '\(scope.rawValue)'.",
                headers: [.wwwAuthenticate: "Bearer error=\"insufficient_scope\", scope=\"\(scope.rawValue)\""])
        }
        if let wait = limiter.take(identity.id, now: RateLimiter.now()) {
            let seconds = max(1, Int(wait.rounded(.up)))
            throw APIError(
                .tooManyRequests, code: "rate_limited",
                "Too many requests for the token '\(identity.name)'; retry after \(seconds) s.",
                headers: [.retryAfter: String(seconds)])
        }
        return identity
    }

    /// The token in `Authorization: Bearer <token>`, if the header has that form.
    static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    private func lookUp(_ secret: String) async throws -> TokenIdentity? {
        guard APITokenSecret.isWellFormed(secret) else { return nil }
        let now = RateLimiter.now()
        if let hit = lock.withLock({ cache[secret] }), hit.expires > now { return hit.identity }
        let identity = try await store.token(secret: secret)
        lock.withLock {
            if cache.count > 10_000 { cache.removeAll() }
            cache[secret] = (identity, now + cacheSeconds)
        }
        return identity
    }
}
