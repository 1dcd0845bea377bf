import Testing

@testable import CXModel

/// One spelling per name (NFC) and bounded states.
@Suite struct NormalizationAndLimitsTests {
    static let nfd = "Zu\u{308}rich"
    static let nfc = "Z\u{FC}rich"
    static let id = "0d9c6c1e-8a55-4d2e-9f5e-0b7a1c2d3e4f"

    @Test func nfcIsComputedWithoutFoundation() {
        #expect(Array(UnicodeNormalization.nfc(Self.nfd).utf8) == Array(Self.nfc.utf8))
        #expect(UnicodeNormalization.isNFC(Self.nfc))
        #expect(!UnicodeNormalization.isNFC(Self.nfd))
        #expect(UnicodeNormalization.nfc("plain ascii") == "plain ascii")
    }

    @Test(arguments: ["territory", "owner", "segment", "city", "name", "notes", "extra.region"])
    func schemaStoresTextInNFC(field: String) throws {
        let stored = try #require(try Schema.normalize(Self.nfd, for: field, in: .customer))
        #expect(Array(stored.utf8) == Array(Self.nfc.utf8))
    }

    @Test func tagsAreStoredInNFC() throws {
        #expect(Array(try Schema.normalizeTag(" \(Self.nfd) ").utf8) == Array(Self.nfc.utf8))
    }

    @Test func aStateWrittenInNFDIsReadInNFC() throws {
        let text = """
            {"id":"\(Self.id)","kind":"customer","clock":{"r1":3},"fields":{\
            "name":[{"value":"Acme","dot":["r1",1],"at":"2026-01-01T00:00:00.000Z"}],\
            "territory":[{"value":"\(Self.nfd)","dot":["r1",2],"at":"2026-01-01T00:00:00.000Z"}]},\
            "tags":{"\(Self.nfd)":[["r1",3]]}}
            """
        let state = try RecordState(jsonString: text)
        #expect(Array(try #require(state.displayedValue("territory")).utf8) == Array(Self.nfc.utf8))
        #expect(state.jsonString().utf8.contains(0xCC) == false)  // no combining diaeresis (CC 88) left
        #expect(state.jsonString().contains(Self.nfc))
    }

    @Test func replicaIDsAreReadInNFC() throws {
        let text = """
            {"id":"\(Self.id)","kind":"customer","clock":{"\(Self.nfd)":1},"fields":{\
            "name":[{"value":"Acme","dot":["\(Self.nfd)",1],"at":"2026-01-01T00:00:00.000Z"}]}}
            """
        let state = try RecordState(jsonString: text)
        #expect(state.clock.entries.map { Array($0.replica.utf8) } == [Array(Self.nfc.utf8)])
        #expect(state.fields[0].entries[0].dot.replica.utf8.elementsEqual(Self.nfc.utf8))
        // Two spellings of one replica in one clock are one replica twice: refused.
        let twice = text.replacingOccurrences(of: "\"clock\":{", with: "\"clock\":{\"\(Self.nfc)\":1,")
        #expect(throws: StateDecodingError.self) { try RecordState(jsonString: twice) }
    }

    // MARK: Bounds

    /// A customer whose clock has `replicas` replicas (each at 5000), whose `name` has
    /// `entriesInName` concurrent values (dots `r<i>:1`) and with `tags` tags (dots `r0:100+j`).
    static func state(replicas: Int, entriesInName: Int = 1, tags: Int = 0) -> String {
        let clock = (0..<replicas).map { "\"r\($0)\":5000" }.joined(separator: ",")
        let entries = (0..<entriesInName).map { "{\"value\":\"v\($0)\",\"dot\":[\"r\($0)\",1],\"at\":\"2026-01-01T00:00:00.000Z\"}" }
        let tagMap = (0..<tags).map { "\"t\($0)\":[[\"r0\",\(100 + $0)]]" }.joined(separator: ",")
        return "{\"id\":\"\(id)\",\"kind\":\"customer\",\"clock\":{\(clock)},\"fields\":{\"name\":[\(entries.joined(separator: ","))]},\"tags\":{\(tagMap)}}"
    }

    @Test(arguments: [
        (StateLimits.maximumReplicasPerClock + 1, 1, 0),
        (StateLimits.maximumEntriesPerField + 1, StateLimits.maximumEntriesPerField + 1, 0),
        (1, 1, StateLimits.maximumTags + 1),
        (20_000, 1, 0),
    ])
    func statesBeyondTheLimitsAreRefusedWithTooManyEntries(replicas: Int, entries: Int, tags: Int) {
        let error = #expect(throws: StateDecodingError.self) {
            try RecordState(jsonString: Self.state(replicas: replicas, entriesInName: entries, tags: tags))
        }
        #expect(error?.code == .tooManyEntries, "\(String(describing: error))")
    }

    @Test func statesAtTheLimitsAreAcceptedAndMergeQuickly() throws {
        let a = try RecordState(
            jsonString: Self.state(
                replicas: StateLimits.maximumReplicasPerClock, entriesInName: StateLimits.maximumEntriesPerField,
                tags: StateLimits.maximumTags))
        #expect(a.limitViolation() == nil)
        let clock = ContinuousClock()
        var merged = a
        let elapsed = clock.measure {
            for _ in 0..<50 { merged = merged.merging(a) }
        }
        #expect(merged == a)
        #expect(elapsed < .seconds(2))
    }

    @Test func theMergeOfTwoStatesCanExceedTheLimitsAndSaysSo() throws {
        // Two replicas each with 40 concurrent values of `name` that the other has not seen.
        func side(_ prefix: String) throws -> RecordState {
            let clock = (0..<40).map { "\"\(prefix)\($0)\":1" }.joined(separator: ",")
            let entries = (0..<40).map { "{\"value\":\"v\($0)\",\"dot\":[\"\(prefix)\($0)\",1],\"at\":\"2026-01-01T00:00:00.000Z\"}" }
            return try RecordState(
                jsonString: "{\"id\":\"\(Self.id)\",\"kind\":\"customer\",\"clock\":{\(clock)},\"fields\":{\"name\":[\(entries.joined(separator: ","))]}}")
        }
        let merged = try side("a").merging(try side("b"))
        #expect(merged.register("name")?.entries.count == 80)
        #expect(merged.limitViolation()?.contains("name") == true)
    }

    // MARK: Version vectors with many replicas

    @Test func versionVectorLookupsAreExactWithManyReplicas() {
        var counters: [String: UInt64] = [:]
        for index in 0..<300 { counters["replica-\(index * 7 % 300)"] = UInt64(index + 1) }
        var vector = VersionVector(counters)
        for (replica, counter) in counters {
            #expect(vector[replica] == counter)
            #expect(vector.contains(Dot(replica: replica, counter: counter)))
            #expect(!vector.contains(Dot(replica: replica, counter: counter + 1)))
        }
        #expect(vector["missing"] == 0)
        #expect(vector.increment("aaa") == Dot(replica: "aaa", counter: 1))
        #expect(vector.increment("replica-5") == Dot(replica: "replica-5", counter: counters["replica-5"]! + 1))
        #expect(vector.entries == vector.entries.sorted())
    }

    @Test func tieBreakBetweenTwoPayloadsOfOneDotIsOrderIndependent() {
        let dot = Dot(replica: "r", counter: 1)
        let x = RegisterEntry<String?>(value: "a", dot: dot, at: Timestamp(millisecondsSinceEpoch: 5), user: "u")
        let y = RegisterEntry<String?>(value: "b", dot: dot, at: Timestamp(millisecondsSinceEpoch: 1), user: nil)
        let clock = VersionVector(["r": 1])
        #expect(CausalMerge.joinEntries([x], clock, [y], clock) == CausalMerge.joinEntries([y], clock, [x], clock))
        #expect(CausalMerge.joinEntries([x], clock, [y], clock) == [x])
    }

    /// The ASCII shortcuts of the email check and of trimming answer what the general,
    /// character-by-character versions answer, for random text around an email's shape
    /// (ASCII and not, whitespace of both kinds, control characters, combining marks).
    @Test func asciiShortcutsAgreeWithTheGeneralChecks() {
        let pieces = ["a", "Z", "9", "@", ".", "..", "-", "_", " ", "\t", "\r\n", "\n", "\u{0B}", "\u{1F}", "\u{7F}", "\u{A0}",
                      "\u{85}", "é", "e\u{301}", "東", "🙂", "x@y.z", "name@example.com", String(repeating: "l", count: 64)]
        var generator = SystemRandomNumberGenerator()
        var checked = 0
        for _ in 0..<20_000 {
            let text = (0..<Int.random(in: 0...6, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            #expect(text.isPlausibleEmail == text.isPlausibleEmailByCharacters, "\(text.debugDescription)")
            #expect(text.trimmingWhitespace == text.trimmingWhitespaceByScalars, "\(text.debugDescription)")
            checked += text.isPlausibleEmailByCharacters ? 1 : 0
        }
        #expect(checked > 100, "enough plausible addresses among the samples")
        for (text, plausible) in [("a@b.c", true), ("a@@b.c", false), ("@b.c", false), ("a@b..c", false), ("a@.b", false),
                                  ("a@b.", false), ("a b@c.d", false), (String(repeating: "l", count: 65) + "@b.c", false)] {
            #expect(text.isPlausibleEmail == plausible, "\(text)")
        }
    }
}
