import Foundation

/// What a token may do. `write` includes `read`.
public enum TokenScope: String, Sendable, CaseIterable, Codable {
    case read, write

    /// True when a token with this scope may do what `needed` asks.
    public func allows(_ needed: TokenScope) -> Bool {
        self == .write || needed == .read
    }
}

/// The token a request was authenticated with (never the secret itself).
public struct TokenIdentity: Sendable, Hashable {
    /// The token's row id; `0` for anonymous reads under `--open-read`.
    public var id: Int64
    public var name: String
    public var scope: TokenScope

    public init(id: Int64, name: String, scope: TokenScope) {
        self.id = id
        self.name = name
        self.scope = scope
    }

    public static let anonymousReader = TokenIdentity(id: 0, name: "anonymous", scope: .read)
}

/// Secrets for new API tokens: `gxy_` followed by 43 characters of base64url (256 random bits).
public enum APITokenSecret {
    /// The prefix every token starts with, so leaked tokens are easy to find in logs and code.
    public static let prefix = "gxy_"

    /// A new random secret from the system's cryptographic generator.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return prefix + base64
    }

    /// True when `text` has the shape of a token (so garbage never reaches the database).
    public static func isWellFormed(_ text: String) -> Bool {
        guard text.hasPrefix(prefix), text.utf8.count == prefix.utf8.count + 43 else { return false }
        return text.utf8.dropFirst(prefix.utf8.count).allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
        }
    }
}
