#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A bearer token: `cx_` + a 12-hex-digit public prefix (to find the row) + 40 hex digits of
/// secret. 208 random bits in all; only the SHA-256 hash is stored.
struct AccessToken: Sendable, Hashable {
    let text: String

    static let marker = "cx_"
    static let prefixLength = 12
    static let secretLength = 40

    /// A new random token.
    static func generate() -> AccessToken {
        var generator = SystemRandomNumberGenerator()
        let hexDigits = Array("0123456789abcdef")
        let body = (0..<(prefixLength + secretLength)).map { _ in hexDigits[Int(generator.next() % 16)] }
        return AccessToken(text: marker + String(body))
    }

    /// Parses a token presented by a client; `nil` when it cannot be one of ours.
    init?(presented: String) {
        guard presented.hasPrefix(Self.marker), presented.utf8.count == Self.marker.utf8.count + Self.prefixLength + Self.secretLength,
            presented.utf8.dropFirst(Self.marker.utf8.count).allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        text = presented
    }

    private init(text: String) {
        self.text = text
    }

    /// The public part that identifies the token's row, e.g. `cx_0a1b2c3d4e5f`.
    var prefix: String { String(text.prefix(Self.marker.count + Self.prefixLength)) }

    /// SHA-256 of the whole token.
    var hash: [UInt8] { SHA256.hash(text.utf8) }

    /// Compares two hashes in time independent of where they differ.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
