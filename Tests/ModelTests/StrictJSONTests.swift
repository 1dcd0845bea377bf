import Foundation
import Testing

@testable import CXModel
import CXSampleData

/// The scanner refuses what RFC 8259 refuses (and duplicate keys), and accepts exactly what
/// Foundation's `JSONSerialization` accepts on generated documents.
@Suite struct StrictJSONTests {
    /// Whether the scanner reads `bytes` as one complete JSON value.
    static func scannerAccepts(_ bytes: [UInt8]) -> Bool {
        do throws(JSONScanner.Failure) {
            try JSONScanner.scan(bytes) { scanner throws(JSONScanner.Failure) in
                try scanner.skipValue()
                try scanner.expectEnd()
            }
            return true
        } catch {
            return false
        }
    }

    static func foundationAccepts(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil
    }

    @Test(arguments: [
        ("lone continuation byte", [0x22, 0x80, 0x22] as [UInt8]),
        ("truncated sequence", [0x22, 0xC3, 0x22]),
        ("overlong slash", [0x22, 0xC0, 0xAF, 0x22]),
        ("encoded surrogate", [0x22, 0xED, 0xA0, 0x80, 0x22]),
        ("above U+10FFFF", [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]),
        ("invalid byte after escape", [0x22, 0x5C, 0x6E, 0xFF, 0x22]),
    ])
    func invalidUTF8IsRefused(name: String, bytes: [UInt8]) {
        #expect(!Self.scannerAccepts(bytes), "\(name)")
    }

    @Test func validUTF8IsReadExactly() throws {
        let text = "Zürich – 東京 🎉"
        let read = try JSONScanner.scan(Array("\"\(text)\"".utf8)) { scanner throws(JSONScanner.Failure) in try scanner.string() }
        #expect(Array(read.utf8) == Array(text.utf8))
    }

    @Test(arguments: ["01", "-01", "00", "1.", ".5", "-", "1e", "1e+", "+1", "0x10", "1.2.3", "--1"])
    func malformedNumbersAreRefused(text: String) {
        #expect(!Self.scannerAccepts(Array(text.utf8)), "\(text)")
        #expect(!Self.scannerAccepts(Array("[\(text)]".utf8)), "[\(text)]")
    }

    @Test func integersWithLeadingZerosAreRefused() {
        #expect(throws: JSONScanner.Failure.self) {
            try JSONScanner.scan(Array("007".utf8)) { scanner throws(JSONScanner.Failure) in try scanner.integer() }
        }
        let zero = try? JSONScanner.scan(Array("0".utf8)) { scanner throws(JSONScanner.Failure) in try scanner.integer() }
        #expect(zero == 0)
    }

    @Test(arguments: [
        ("42", 42), ("42.0", 42), ("4.2e1", 42), ("420e-1", 42), ("0.0", 0), ("-0", 0), ("-7.00", -7), ("1E+3", 1000),
        ("0e999999", 0), ("9223372036854775807", Int64.max), ("922337203685477580.7e1", Int64.max),
    ] as [(String, Int64)])
    func integersMayBeWrittenAsWholeNumbers(text: String, value: Int64) throws {
        // JSON Schema's `integer` is any number without a fractional part.
        #expect(try JSONScanner.scan(Array(text.utf8)) { scanner throws(JSONScanner.Failure) in try scanner.integer() } == value)
    }

    @Test(arguments: ["4.5", "1e-1", "0.1e1x", "1e20", "9223372036854775808", "1.", "1e", "01.0", "1e999999999999"])
    func fractionalHugeOrMalformedIntegersAreRefused(text: String) {
        #expect(throws: JSONScanner.Failure.self, "\(text)") {
            try JSONScanner.scan(Array(text.utf8)) { scanner throws(JSONScanner.Failure) in
                _ = try scanner.integer()
                try scanner.expectEnd()
            }
        }
    }

    @Test(arguments: [
        "{\"a\":1,\"a\":2}",
        "{\"a\":{\"b\":1,\"b\":1}}",
        "[{\"x\":[],\"x\":[]}]",
        // The same key spelled with an escape, before or after.
        "{\"a\":1,\"\\u0061\":2}",
        "{\"\\u0061\":1,\"a\":2}",
        "[{\"x\":{\"t\\n\":1,\"t\\u000a\":2}}]",
        "{\"k1\":1,\"k2\":1,\"k3\":1,\"k4\":1,\"k5\":1,\"k6\":1,\"k7\":1,\"k8\":1,\"k9\":1,\"k10\":1,\"k11\":1,\"k12\":1,\"k13\":1,\"k14\":1,\"k15\":1,\"k16\":1,\"k17\":1,\"k18\":1,\"k3\":1}",
    ])
    func duplicateKeysAreRefused(text: String) {
        #expect(!Self.scannerAccepts(Array(text.utf8)), "\(text)")
    }

    /// Keys are equal only byte for byte: two spellings of "é" (one code point, or "e" and a
    /// combining accent) are two keys, skipped or read.
    @Test func canonicallyEquivalentKeysAreDifferentKeys() throws {
        let text = "{\"\u{E9}\":1,\"e\u{301}\":2}"
        #expect(Self.scannerAccepts(Array(text.utf8)))
        var keys: [String] = []
        try JSONScanner.scan(Array(text.utf8)) { scanner throws(JSONScanner.Failure) in
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                keys.append(key)
                _ = try scanner.integer()
            }
        }
        #expect(keys.count == 2)
    }

    @Test func duplicateKeysInARecordStateAreRefused() throws {
        let state = try RecordState.new(
            kind: .customer, id: "0d9c6c1e-8a55-4d2e-9f5e-0b7a1c2d3e4f", fields: ["name": "Acme"],
            by: Author(replica: "r1", at: Timestamp(millisecondsSinceEpoch: 0)))
        let text = state.jsonString(.expanded)
        // A second `fields` map, a second `name` register, a second `value` in one entry.
        let variants = [
            text.replacingOccurrences(of: "\"fields\":{", with: "\"fields\":{},\"fields\":{"),
            text.replacingOccurrences(of: "\"fields\":{", with: "\"fields\":{\"name\":[],"),
            text.replacingOccurrences(of: "{\"value\":\"Acme\"", with: "{\"value\":\"Evil\",\"value\":\"Acme\""),
            text.replacingOccurrences(of: "\"clock\":{", with: "\"clock\":{\"r1\":1,"),
        ]
        for variant in variants {
            #expect(variant != text)
            #expect(throws: StateDecodingError.self, "\(variant)") { try RecordState(jsonString: variant) }
        }
    }

    // MARK: Differential test against JSONSerialization

    /// A small deterministic generator of JSON documents and of near-miss mutations of them.
    struct Generator {
        var random: SeededRandomGenerator

        mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &random) }

        mutating func value(depth: Int) -> String {
            switch int(0..<(depth > 3 ? 5 : 7)) {
            case 0: return ["true", "false", "null"][int(0..<3)]
            case 1: return number()
            case 2, 3, 4: return string()
            case 5:
                return "[" + (0..<int(0..<4)).map { _ in value(depth: depth + 1) }.joined(separator: ",") + "]"
            default:
                let count = int(0..<4)
                let keys = Set((0..<count).map { _ in "k\(int(0..<1000))" })
                return "{" + keys.map { "\"\($0)\" : \(value(depth: depth + 1))" }.joined(separator: ", ") + "}"
            }
        }

        mutating func number() -> String {
            var text = int(0..<2) == 0 ? "-" : ""
            text += int(0..<3) == 0 ? "0" : String(int(1..<100_000))
            if int(0..<3) == 0 { text += "." + String(int(0..<1000)) }
            if int(0..<4) == 0 { text += ["e", "E"][int(0..<2)] + ["", "+", "-"][int(0..<3)] + String(int(0..<30)) }
            return text
        }

        mutating func string() -> String {
            let pieces = ["a", "Z", " ", "é", "東", "🎉", "\\n", "\\\"", "\\\\", "\\u00e9", "\\ud83c\\udf89", "\\/", "e\u{301}"]
            return "\"" + (0..<int(0..<6)).map { _ in pieces[int(0..<pieces.count)] }.joined() + "\""
        }

        /// `document` with one byte replaced, inserted or removed.
        mutating func mutate(_ document: String) -> [UInt8] {
            var bytes = Array(document.utf8)
            let alphabet = Array("{}[]\",:0123456789-+.eEtfnu\\ ".utf8)
            let position = int(0..<(bytes.count + 1))
            switch int(0..<3) {
            case 0 where position < bytes.count: bytes.remove(at: position)
            case 1 where position < bytes.count: bytes[position] = alphabet[int(0..<alphabet.count)]
            default: bytes.insert(alphabet[int(0..<alphabet.count)], at: position)
            }
            return bytes
        }
    }

    @Test func scannerAgreesWithJSONSerializationOnGeneratedDocuments() {
        var generator = Generator(random: SeededRandomGenerator(seed: 20_261_129))
        var valid = 0, invalid = 0
        for _ in 0..<3_000 {
            let document = generator.value(depth: 0)
            let bytes = Array(document.utf8)
            #expect(Self.foundationAccepts(bytes), "generator made invalid JSON: \(document)")
            #expect(Self.scannerAccepts(bytes), "valid JSON refused: \(document)")
            valid += 1
            let mutated = generator.mutate(document)
            // Duplicate keys are the one deliberate difference (Foundation keeps the last).
            guard !Self.hasDuplicateKeys(mutated) else { continue }
            // So is the range of numbers: the scanner checks the grammar of a number it skips
            // (`integer()` checks the range of those it reads); Foundation refuses a Double
            // overflow such as 1e+520.
            guard !Self.hasHugeExponent(mutated) else { continue }
            let foundation = Self.foundationAccepts(mutated)
            #expect(Self.scannerAccepts(mutated) == foundation, "disagree (Foundation: \(foundation)): \(String(decoding: mutated, as: UTF8.self))")
            if !foundation { invalid += 1 }
        }
        #expect(valid == 3_000)
        #expect(invalid > 300)
    }

    /// Whether `bytes` hold an exponent of three or more digits.
    static func hasHugeExponent(_ bytes: [UInt8]) -> Bool {
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                var next = index + 1
                if next < bytes.count, bytes[next] == UInt8(ascii: "+") || bytes[next] == UInt8(ascii: "-") { next += 1 }
                var digits = 0
                while next < bytes.count, bytes[next] >= 0x30, bytes[next] <= 0x39 { digits += 1; next += 1 }
                if digits >= 3 { return true }
            }
            index += 1
        }
        return false
    }

    /// Whether Foundation reads `bytes` but loses keys (a duplicate key in some object).
    static func hasDuplicateKeys(_ bytes: [UInt8]) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else { return false }
        func keys(_ value: Any) -> Int {
            if let dictionary = value as? [String: Any] { return dictionary.count + dictionary.values.map(keys).reduce(0, +) }
            if let array = value as? [Any] { return array.map(keys).reduce(0, +) }
            return 0
        }
        return keys(object) < Self.keyCount(bytes)
    }

    /// Counts the keys of every object by scanning without checking duplicates.
    static func keyCount(_ bytes: [UInt8]) -> Int {
        var count = 0, inString = false, escaped = false
        var stack: [UInt8] = []
        var expectingKey = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                if expectingKey, stack.last == UInt8(ascii: "{") { count += 1 }
                expectingKey = false
            case UInt8(ascii: "{"): stack.append(byte); expectingKey = true
            case UInt8(ascii: "["): stack.append(byte)
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","): expectingKey = stack.last == UInt8(ascii: "{")
            default: break
            }
        }
        return count
    }

    // MARK: Limits are counted in code points

    @Test func textLimitsCountCodePointsNotGraphemes() {
        // One grapheme cluster, 20,000 code points: refused (it was accepted as 1 "character").
        let zalgo = "e" + String(repeating: "\u{301}", count: 19_999)
        #expect(throws: RecordValidationError.self) { try Schema.normalize(zalgo, for: "notes", in: .customer) }
        let fine = String(repeating: "é", count: Schema.maximumTextLength)
        #expect((try? Schema.normalize(fine, for: "notes", in: .customer)) != nil)
    }

    @Test(arguments: ["territory", "owner", "segment", "city", "country", "phone"])
    func nameLikeFieldsAreLimitedTo200CodePoints(field: String) throws {
        let ok = String(repeating: "n", count: Schema.maximumNameLength)
        #expect(try Schema.normalize(ok, for: field, in: .customer) == ok)
        let long = String(repeating: "n", count: 6_000)
        #expect(throws: RecordValidationError.self) { try Schema.normalize(long, for: field, in: .customer) }
    }

    @Test func tagsAreLimitedInCodePoints() {
        let tag = "v" + String(repeating: "\u{301}", count: Schema.maximumTagLength)
        #expect(throws: RecordValidationError.self) { try Schema.normalizeTag(tag) }
    }
}
