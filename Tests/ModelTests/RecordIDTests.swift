import CXModel
import CXSampleData
import Testing

/// Record ids: canonical version 4 UUIDs, and seeded ids that stay what they always were
/// (sample books, benchmarks and the fault suite rely on a seed giving the same ids).
@Suite struct RecordIDTests {
    /// The formatting `RecordID.random(using:)` had before it was made faster, kept here as
    /// the reference: one draw per byte, the version and variant bits set, lowercase hex.
    static func reference<G: RandomNumberGenerator>(using generator: inout G) -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { byte -> String in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
        let characters = Array(hex)
        return String(characters[0..<8]) + "-" + String(characters[8..<12]) + "-"
            + String(characters[12..<16]) + "-" + String(characters[16..<20]) + "-" + String(characters[20..<32])
    }

    @Test func seededIDsAreTheOnesTheSeedAlwaysGave() {
        for seed: UInt64 in [0, 1, 42, 876749, .max] {
            var fast = SeededRandomGenerator(seed: seed), slow = SeededRandomGenerator(seed: seed)
            for _ in 0..<50 {
                #expect(RecordID.random(using: &fast) == Self.reference(using: &slow), "seed \(seed)")
            }
        }
    }

    @Test func randomIDsAreCanonicalVersion4UUIDsAndDistinct() {
        var seen: Set<String> = []
        for _ in 0..<2_000 {
            let id = RecordID.random()
            #expect(RecordID.canonical(id) == id)
            let characters = Array(id)
            #expect(characters[14] == "4", "version 4: \(id)")
            #expect("89ab".contains(characters[19]), "RFC 4122 variant: \(id)")
            seen.insert(id)
        }
        #expect(seen.count == 2_000)
    }
}
