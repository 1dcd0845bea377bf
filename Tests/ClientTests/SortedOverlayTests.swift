import CXModel
import Testing
@testable import CXClient

/// The cache's one sorted-merge loop and one binary search, against obvious references.
@Suite struct SortedOverlayTests {
    /// A deterministic generator (SplitMix64), so every failure can be replayed from its seed.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Merges through ``SortedOverlay`` and tags each output with where it came from.
    func merged(base: [String], updates: [String]) -> [String] {
        var out: [String] = []
        SortedOverlay<String>.merge(
            base, key: { Array($0.utf8) }, updates: updates.map { (key: Array($0.utf8), value: $0) },
            emitBase: { out.append("base:" + $0) }, emitUpdate: { out.append("update:" + $0) })
        return out
    }

    @Test func updatesInterleaveReplaceAndFollowTheBase() {
        #expect(merged(base: ["b", "d", "f"], updates: ["a", "d", "e", "g"])
            == ["update:a", "base:b", "update:d", "update:e", "base:f", "update:g"])
        #expect(merged(base: [], updates: ["b", "a"]) == ["update:a", "update:b"])
        #expect(merged(base: ["a", "b"], updates: []) == ["base:a", "base:b"])
        // Byte order, not String order: "Z" (0x5A) sorts before "a" (0x61), "ab" after "a".
        #expect(merged(base: ["a", "ab"], updates: ["Z", "aa"]) == ["update:Z", "base:a", "update:aa", "base:ab"])
    }

    @Test func agreesWithADictionaryMergeOnRandomInputs() {
        let seed = UInt64.random(in: 0..<UInt64.max)
        print("SortedOverlayTests seed: \(seed)")
        var random = Seeded(state: seed)
        for _ in 0..<200 {
            let alphabet = Array("abcd")
            func key() -> String { String((0..<Int.random(in: 1...3, using: &random)).map { _ in alphabet.randomElement(using: &random)! }) }
            let base = Array(Set((0..<Int.random(in: 0...12, using: &random)).map { _ in key() })).sorted()
            let updates = Array(Set((0..<Int.random(in: 0...12, using: &random)).map { _ in key() })).shuffled(using: &random)
            // The reference: every key once, in byte order, an update winning over the base.
            var expected: [String: String] = [:]
            for key in base { expected[key] = "base:" + key }
            for key in updates { expected[key] = "update:" + key }
            let reference = expected.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.map { expected[$0]! }
            #expect(merged(base: base, updates: updates) == reference, "seed \(seed): base \(base), updates \(updates)")
        }
    }

    @Test func advanceReportsWhetherTheBaseItemWasReplaced() {
        var overlay = SortedOverlay([(key: Array("b".utf8), value: 1), (key: Array("a".utf8), value: 0)])
        var emitted: [Int] = []
        #expect(overlay.advance(to: Array("b".utf8)) { emitted.append($0) })
        #expect(emitted == [0, 1])
        #expect(!overlay.advance(to: Array("c".utf8)) { emitted.append($0) })
        overlay.finish { emitted.append($0) }
        #expect(emitted == [0, 1])
    }

    @Test func lowerBoundFindsTheFirstItemNotBelowTheKey() {
        let items = [1, 3, 3, 5, 8]
        for key in 0...9 {
            let expected = items.firstIndex { $0 >= key } ?? items.count
            #expect(lowerBound(count: items.count) { items[$0] < key } == expected, "key \(key)")
        }
        #expect(lowerBound(count: 0) { _ in true } == 0)
    }
}
