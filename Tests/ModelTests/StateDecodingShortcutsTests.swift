import Testing

@testable import CXModel

/// The decoder's shortcuts (a dot's replica checked once through the clock, byte-level value
/// checks, field types found by length) accept and refuse exactly what the full checks do.
@Suite struct StateDecodingShortcutsTests {
    static let id = "0b6f3a52-7c1d-4e8a-9f30-2d5c8e41a7b9"

    /// An expanded state with `clock` and one field entry per `(field, replica, counter)`.
    static func expanded(clock: [(String, Int)], entries: [(String, String, Int)]) -> String {
        let clockText = clock.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",")
        var fields: [String: [String]] = [:]
        for (field, replica, counter) in entries {
            fields[field, default: []].append(
                #"{"value":"v\#(counter)","dot":["\#(replica)",\#(counter)],"at":"2026-11-20T09:15:00.000Z","user":"anna"}"#)
        }
        let fieldsText = fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\":[\($0.value.joined(separator: ","))]" }.joined(separator: ",")
        return #"{"id":"\#(id)","kind":"customer","clock":{\#(clockText)},"fields":{"name":[{"value":"N","dot":["\#(clock[0].0)",1],"at":"2026-11-20T09:15:00.000Z","user":null}],\#(fieldsText)},"tags":{},"deletion":[]}"#
    }

    /// A clock of twelve replicas (past the small-clock scan), entries from each in an order
    /// that jumps between them: both forms decode to the state they encode.
    @Test func aLargeClockDecodesInBothForms() throws {
        let replicas = (0..<12).map { "laptop-\($0)" }
        var state = try RecordState.new(kind: .customer, id: Self.id, fields: ["name": "N"], by: Author(replica: replicas[0], at: Timestamp(millisecondsSinceEpoch: 1)))
        for step in 0..<30 {
            let replica = replicas[(step * 7) % replicas.count]
            try state.set("extra.f\(step % 9)", to: "value \(step)", by: Author(replica: replica, user: "u\(step % 3)", at: Timestamp(millisecondsSinceEpoch: Int64(step))))
        }
        #expect(state.clock.entries.count == 12)
        for format in [StateFormat.compact, .expanded] {
            let decoded = try RecordState(jsonBytes: state.jsonBytes(format))
            #expect(decoded == state)
            #expect(decoded.jsonBytes(format) == state.jsonBytes(format))
        }
    }

    /// A dot may spell a clock replica in another Unicode form: it is the clock's replica, in NFC.
    @Test func aDotSpellingAClockReplicaInNFDIsThatReplica() throws {
        let nfc = "caf\u{E9}-laptop", nfd = "cafe\u{301}-laptop"
        for (clockSpelling, dotSpelling) in [(nfc, nfd), (nfd, nfc), (nfd, nfd)] {
            let state = try RecordState(jsonString: Self.expanded(clock: [(clockSpelling, 2)], entries: [("phone", dotSpelling, 2)]))
            let dot = try #require(state.fields.first { $0.name == "phone" }?.entries.first?.dot)
            #expect(Array(dot.replica.utf8) == Array(nfc.utf8))
            #expect(Array(state.clock.entries[0].replica.utf8) == Array(nfc.utf8))
        }
    }

    @Test(arguments: [
        ("a replica not in the clock", [("laptop-a", 3)], [("phone", "laptop-b", 1)], "not covered by the clock"),
        ("a counter past the clock's", [("laptop-a", 3)], [("phone", "laptop-a", 4)], "not covered by the clock"),
        ("a zero counter", [("laptop-a", 3)], [("phone", "laptop-a", 0)], "must be at least 1"),
        ("a control character in a dot's replica", [("laptop-a", 3)], [("phone", "laptop\\u0001", 1)], "replica id"),
        ("a control character in the clock", [("laptop\\u007f", 3)], [("phone", "laptop\\u007f", 1)], "replica id"),
        ("a large clock without the dot's replica", (0..<12).map { ("laptop-\($0)", 3) }, [("phone", "laptop-x", 1)], "not covered by the clock"),
        ("a large clock and a counter past it", (0..<12).map { ("laptop-\($0)", 3) }, [("phone", "laptop-11", 4)], "not covered by the clock"),
    ] as [(String, [(String, Int)], [(String, String, Int)], String)])
    func refusesDotsTheClockDoesNotCover(name: String, clock: [(String, Int)], entries: [(String, String, Int)], expected: String) {
        do {
            _ = try RecordState(jsonString: Self.expanded(clock: clock, entries: entries))
            Issue.record("\(name) was accepted")
        } catch {
            #expect(error.description.contains(expected), "\(name): \(error.description)")
        }
    }

    @Test(arguments: [
        ("a field entry's zero counter", #"["+49 30 1234567",0,2]"#, #"["+49 30 1234567",0,0]"#, "must be at least 1"),
        ("a tag add's zero counter", #""wholesale":[[0,3]]"#, #""wholesale":[[0,0]]"#, "must be at least 1"),
        ("a tag add past the clock", #""wholesale":[[0,3]]"#, #""wholesale":[[0,4]]"#, "not covered by the clock"),
        ("a user with NUL", #""anna""#, #""an\u0000na""#, "user names"),
        ("an empty user", #""anna""#, #""""#, "user names"),
    ])
    func refusesBrokenCompactReferences(name: String, target: String, replacement: String, expected: String) {
        CompactStateFormatTests.expectExampleRefused(name, replacing: target, with: replacement, saying: expected)
    }

    @Test func valueChecksSeeEveryByte() throws {
        let valid = CompactStateFormatTests.compactExample.replacingOccurrences(of: "\n", with: "")
        // NUL anywhere in a long value, past the first machine words.
        let withNUL = valid.replacingFirst("Müller & Söhne KG", with: "Müller & Söhne KG and a long tail\\u0000")
        #expect(throws: StateDecodingError.self) { try RecordState(jsonString: withNUL) }
        // A decomposed ü late in an otherwise ASCII value is read in NFC (Swift's `==` holds
        // the two spellings equal, so a pushed one is not refused but normalised).
        // Spliced byte for byte: Foundation's string replacement may compose the text itself.
        let decomposed = Self.splicing(valid, "Müller & Söhne KG", "Mueller and Sons, Zurich branch, Mu\u{308}nchen")
        #expect(decomposed.utf8.contains(0xCC), "the value is decomposed (U+0308 is CC 88)")
        for rules in [StateValueRules.pushed, .stored] {
            let state = try RecordState(jsonString: decomposed, values: rules)
            #expect(Array(state.fields.first { $0.name == "name" }!.entries[0].value!.utf8) == Array("Mueller and Sons, Zurich branch, M\u{FC}nchen".utf8))
        }
    }

    /// `text` with the first occurrence of `target`'s bytes replaced by `replacement`'s.
    static func splicing(_ text: String, _ target: String, _ replacement: String) -> String {
        let bytes = Array(text.utf8), find = Array(target.utf8)
        guard let start = (0...(bytes.count - find.count)).first(where: { Array(bytes[$0..<$0 + find.count]) == find }) else { return text }
        return String(decoding: bytes[..<start] + Array(replacement.utf8) + bytes[(start + find.count)...], as: UTF8.self)
    }

    @Test(arguments: [
        ("extra.a-b_c.D9", true), ("extra.", false), ("extra.é", false), ("extra.a b", false),
        ("extra." + String(repeating: "k", count: 64), true), ("extra." + String(repeating: "k", count: 65), false),
        ("extra", false), ("extrax", false), ("name", true), ("nam", false), ("names", false), ("e-mail", false),
    ])
    func fieldNamesAreFoundExactly(field: String, known: Bool) {
        #expect(((try? Schema.type(of: field, in: .customer)) != nil) == known, "\(field)")
    }

    @Test func idsAreReadInCanonicalForm() throws {
        let upper = CompactStateFormatTests.compactExample.replacingFirst(Self.id, with: Self.id.uppercased())
        #expect(try RecordState(jsonString: upper).id == Self.id)
        #expect(RecordID.canonical(Self.id) == Self.id)
        #expect(RecordID.canonical(Self.id.uppercased()) == Self.id)
        #expect(RecordID.canonical(String(Self.id.dropLast()) + "g") == nil)
        #expect(RecordID.canonical(Self.id + "0") == nil)
        #expect(RecordID.canonical(Self.id.replacingFirst("-", with: "0")) == nil)
    }

    @Test func textBytesMatchTheScalarDefinitions() {
        for text in ["", "a", "plain ascii text that is longer than sixteen bytes", "Zoë", "\u{0}", "tab\there", "del\u{7F}", "ok\u{80}", "\u{1F600} emoji", String(repeating: "x", count: 100) + "\u{0}"] {
            #expect(TextBytes.isASCII(text) == text.unicodeScalars.allSatisfy(\.isASCII), "\(text.debugDescription)")
            #expect(TextBytes.containsNUL(text) == text.unicodeScalars.contains("\u{0}"), "\(text.debugDescription)")
            #expect(TextBytes.containsControlCharacter(text) == text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(text.debugDescription)")
        }
    }
}

/// ``RecordState/isWithinLengthLimits`` (what a push is prepared with) agrees with the full
/// ``RecordState/lengthViolation(notCoveredBy:)`` on pushed states at and past every limit.
@Suite struct LengthLimitShortcutTests {
    @Test(arguments: [
        ("Müller & Söhne KG", "+49 30 1234567", "wholesale", true),
        (String(repeating: "n", count: 10_000), String(repeating: "4", count: 200), String(repeating: "t", count: 100), true),
        (String(repeating: "n", count: 10_001), "+49 30 1234567", "wholesale", false),
        (String(repeating: "ü", count: 6_000), "+49 30 1234567", "wholesale", true),
        ("Müller", String(repeating: "4", count: 201), "wholesale", false),
        ("Müller", String(repeating: "é", count: 200), "wholesale", true),
        ("Müller", "+49 30 1234567", String(repeating: "t", count: 101), false),
        ("Müller", "+49 30 1234567", String(repeating: "ß", count: 100), true),
    ])
    func agreesWithTheFullCheck(name: String, phone: String, tag: String, within: Bool) throws {
        let text = CompactStateFormatTests.compactExample.replacingOccurrences(of: "\n", with: "")
            .replacingFirst("Müller & Söhne KG", with: name).replacingFirst("+49 30 1234567", with: phone)
            .replacingFirst("\"wholesale\"", with: "\"\(tag)\"")
        let state = try RecordState(jsonString: text, values: .pushed)
        #expect(state.isWithinLengthLimits == within)
        #expect((state.lengthViolation(notCoveredBy: nil) == nil) == within)
    }
}
