import CXPostgres
import Testing

@testable import CXServer

/// Token hashes are plain SHA-256 (the server no longer links swift-crypto): the FIPS 180-4
/// vectors, PostgreSQL's own `sha256()`, and tokens stored by earlier versions still work.
@Suite(.serverDatabase) struct TokenHashTests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func fipsVectors(message: String, digest: String) {
        #expect(Self.hex(SHA256.hash(Array(message.utf8))) == digest)
    }

    @Test func millionAs() {
        #expect(
            Self.hex(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Every length around the block boundaries, against PostgreSQL's implementation.
    @Test func agreesWithPostgreSQL() async throws {
        try await withTestDatabase { database in
            let messages = (0...130).map { length in String((0..<length).map { Character(UnicodeScalar(0x61 + $0 % 26)!) }) }
                + ["cx_0123456789abcdef0123456789abcdef0123456789abcdef0123", "naïve café ✓"]
            for message in messages {
                let stored = try await database.sql { connection in
                    try connection.query("SELECT sha256(convert_to(\(message), 'UTF8')) AS digest")[0].decode("digest", as: [UInt8].self)
                }
                #expect(SHA256.hash(Array(message.utf8)) == stored, "length \(message.utf8.count)")
            }
        }
    }

    /// A token whose hash was computed elsewhere (as swift-crypto did before) authenticates.
    @Test func tokensStoredBeforeStillAuthenticate() async throws {
        try await withTestDatabase { database in
            let token = "cx_" + "0123456789ab" + String(repeating: "c", count: 40)
            let user = try await database.sql { connection in
                try UserStore.addUser("legacy", role: .rep, territories: ["north"], on: connection)
                try connection.query(
                    """
                    INSERT INTO cx.tokens (user_id, prefix, hash)
                    SELECT id, \(String(token.prefix(15))), sha256(convert_to(\(token), 'UTF8')) FROM cx.users WHERE name = 'legacy'
                    """)
                return try UserStore.authenticate(token, on: connection)
            }
            #expect(user?.name == "legacy")
        }
    }
}
