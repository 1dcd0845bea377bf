import Testing

@testable import CXModel

/// The `POST /v1/sync` contract (docs/sync-protocol.md §1, §4, §4a, §4b, §10): each type's one
/// encoder and one decoder agree with each other and with the documented bytes.
@Suite struct SyncContractTests {
    static let customer = Array(#"""
        {"id":"0b6f3a52-7c1d-4e8a-9f30-2d5c8e41a7b9","kind":"customer","clock":{"anna-laptop":3},
          "fields":{"name":[{"value":"Müller & Söhne KG","dot":["anna-laptop",1],"at":"2026-11-20T09:15:00.000Z","user":"anna"}],
                    "phone":[{"value":"+49 30 1234567","dot":["anna-laptop",2],"at":"2026-11-20T09:15:00.000Z","user":"anna"}]},
          "tags":{"wholesale":[["anna-laptop",3]]},"deletion":[]}
        """#.utf8)

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    // MARK: Rejection codes

    @Test func everyServerCodeRoundTrips() throws {
        #expect(Set(RecordRejection.Code.serverCodes.map(\.rawValue)).count == RecordRejection.Code.serverCodes.count)
        for code in RecordRejection.Code.serverCodes + [.recordTooLarge] {
            let rejection = RecordRejection(id: "x", code: code, message: "m")
            var w = JSONWriter()
            rejection.encode(into: &w)
            #expect(Self.text(w.bytes) == #"{"id":"x","code":"\#(code.rawValue)","message":"m"}"#)
            let read = try JSONScanner.scan(w.bytes) { scanner throws(JSONScanner.Failure) in try RecordRejection(reading: &scanner) }
            #expect(read == rejection)
        }
        #expect(RecordRejection.Code.dotReused.rawValue == "dot_reused")
        #expect(RecordRejection.Code.foreignClock.rawValue == "foreign_clock")
        #expect(RecordRejection.Code.territoryNotHeld.rawValue == "territory_not_held")
        #expect(StateDecodingError.Code.invalidRecord == RecordRejection.Code.invalidRecord)
    }

    @Test func unknownCodesFromNewerServersSurvive() throws {
        let bytes = Array(#"{"id":"a","code":"quota_exceeded","message":"later","hint":{"x":1}}"#.utf8)
        let read = try JSONScanner.scan(bytes) { scanner throws(JSONScanner.Failure) in try RecordRejection(reading: &scanner) }
        #expect(read.code == RecordRejection.Code(rawValue: "quota_exceeded"))
        #expect(!RecordRejection.Code.serverCodes.contains(read.code))
        #expect("\(read.code)" == "quota_exceeded")
        var w = JSONWriter()
        read.encode(into: &w)
        #expect(Self.text(w.bytes) == #"{"id":"a","code":"quota_exceeded","message":"later"}"#)
    }

    @Test func storedClockOnlyWhenPresent() throws {
        let rejection = RecordRejection(
            id: "a", code: .foreignClock, message: "m", storedClock: VersionVector(["r1": 3, "r2": 1]))
        var w = JSONWriter()
        rejection.encode(into: &w)
        #expect(Self.text(w.bytes) == #"{"id":"a","code":"foreign_clock","message":"m","stored_clock":{"r1":3,"r2":1}}"#)
        let read = try JSONScanner.scan(w.bytes) { scanner throws(JSONScanner.Failure) in try RecordRejection(reading: &scanner) }
        #expect(read == rejection)
        let empty = RecordRejection(id: "a", code: .foreignClock, message: "m", storedClock: VersionVector())
        var e = JSONWriter()
        empty.encode(into: &e)
        #expect(Self.text(e.bytes).hasSuffix(#","stored_clock":{}}"#))
    }

    // MARK: Scope

    @Test func scopeRoundTripsWithAndWithoutUser() throws {
        let reported = SyncScope(user: "anna", role: .rep, territories: ["north", "east", "north"])
        #expect(reported.territories == ["east", "north"])
        var w = JSONWriter()
        reported.encode(into: &w)
        #expect(Self.text(w.bytes) == #"{"user":"anna","role":"rep","territories":["east","north"]}"#)
        let read = try JSONScanner.scan(w.bytes) { scanner throws(JSONScanner.Failure) in try SyncScope(reading: &scanner) }
        #expect(read == reported)
        #expect(read.user == "anna")

        let stored = SyncScope(role: .rep, territories: ["east", "north"])
        var s = JSONWriter()
        stored.encode(into: &s)
        #expect(Self.text(s.bytes) == #"{"role":"rep","territories":["east","north"]}"#)
        #expect(stored == reported, "the user name does not decide equality")
        #expect(stored != SyncScope(role: .manager, territories: ["east", "north"]))
        #expect(SyncScope(role: .admin, territories: []).summary == "admin (everything)")
        #expect(SyncScope(role: .rep, territories: []).summary == "rep without territories")
        #expect(SyncScope.Role.allCases.map(\.rawValue) == ["rep", "manager", "admin"])
    }

    @Test func scopeWithoutOrWithUnknownRoleIsRefused() {
        for bad in [#"{"user":"a","territories":[]}"#, #"{"role":"auditor","territories":[]}"#, #"{"role":"rep","role":"admin"}"#] {
            #expect(throws: JSONScanner.Failure.self, "\(bad)") {
                try JSONScanner.scan(Array(bad.utf8)) { scanner throws(JSONScanner.Failure) in _ = try SyncScope(reading: &scanner) }
            }
        }
    }

    // MARK: Request envelope

    @Test func envelopeIsWrittenAsCxAlwaysWroteIt() {
        let plain = SyncEnvelope(replicaID: "r1", cursor: nil, changes: [Array("{}".utf8), Array("[]".utf8)], limit: 1000)
        #expect(Self.text(plain.jsonBytes()) == #"{"replica_id":"r1","cursor":null,"changes":[{},[]],"limit":1000}"#)
        let first = SyncEnvelope(replicaID: "r1", syncToken: nil, nextSyncToken: "t1", cursor: "c5.0123456789ab", changes: [], limit: 10)
        #expect(Self.text(first.jsonBytes()) == #"{"replica_id":"r1","sync_token":null,"next_sync_token":"t1","cursor":"c5.0123456789ab","changes":[],"limit":10}"#)
        let later = SyncEnvelope(replicaID: "r1", syncToken: "t1", nextSyncToken: "t2", cursor: nil, changes: [])
        #expect(Self.text(later.jsonBytes()) == #"{"replica_id":"r1","sync_token":"t1","next_sync_token":"t2","cursor":null,"changes":[]}"#)
    }

    @Test func envelopeRoundTrips() throws {
        let envelopes = [
            SyncEnvelope(replicaID: "anna-laptop", cursor: nil, changes: [Self.customer], limit: 1000),
            SyncEnvelope(replicaID: "r\u{e9}", syncToken: "a", nextSyncToken: "b", cursor: "c7", changes: [], limit: nil),
            SyncEnvelope(replicaID: "r", syncToken: nil, nextSyncToken: "b", cursor: nil, changes: [Array("1".utf8), Array("null".utf8)], limit: 1),
        ]
        for envelope in envelopes {
            #expect(try SyncEnvelope(reading: envelope.jsonBytes()) == envelope)
        }
    }

    @Test func documentedEnvelopesDecode() throws {
        // §1, with a state for `<record state>…`, and §10's body.json.
        let section1 = Array(#"{"replica_id": "anna-laptop", "cursor": null, "changes": ["#.utf8) + Self.customer + Array(#"], "limit": 1000}"#.utf8)
        let read = try SyncEnvelope(reading: section1)
        #expect(read.replicaID == "anna-laptop")
        #expect(read.cursor == nil)
        #expect(read.limit == 1000)
        #expect(read.changes == [Self.customer])
        let body = Array(#"{"replica_id": "anna-laptop", "cursor": null, "limit": 1000, "changes": [ "#.utf8) + Self.customer + Array("]}".utf8)
        #expect(try SyncEnvelope(reading: body) == read)
        // §10: a pull from a cursor; keys in any order, tokens as §4b has them.
        let pull = try SyncEnvelope(reading: Array(#"{"cursor":"c1","replica_id":"bob-laptop"}"#.utf8))
        #expect(pull == SyncEnvelope(replicaID: "bob-laptop", cursor: "c1", changes: [], limit: nil))
        let tokens = try SyncEnvelope(reading: Array(#"{"replica_id":"r","sync_token":null,"next_sync_token":"n"}"#.utf8))
        #expect(tokens.syncToken == nil && tokens.nextSyncToken == "n")
    }

    @Test func envelopeHandsEachChangeToTheReader() throws {
        let body = Array(#"{"replica_id":"r","changes":[{"id":"a"}, [1,2] ,"x"]}"#.utf8)
        var seen: [String] = []
        let read = try SyncEnvelope(reading: body) { element in
            seen.append(Self.text((try? element.rawValue()) ?? []))
        }
        #expect(seen == [#"{"id":"a"}"#, "[1,2]", #""x""#])
        #expect(read.changes.isEmpty)
    }

    @Test func envelopeStrictnessIsTyped() {
        func failure(_ json: String, maximumChanges: Int = .max) -> SyncEnvelope.ReadError? {
            do throws(SyncEnvelope.ReadError) {
                _ = try SyncEnvelope(reading: Array(json.utf8), maximumChanges: maximumChanges)
                return nil
            } catch {
                return error
            }
        }
        guard case .unknownField(let unknown)? = failure(#"{"replica_id":"r","cursr":null}"#) else {
            Issue.record("an unknown key is unknownField")
            return
        }
        #expect(unknown.description.hasPrefix("unknown field 'cursr'; expected replica_id, cursor, changes, limit, sync_token, next_sync_token, omit_echoes, compact_states, push_only, echo_receipts, snapshot at byte"))
        // `omit_echoes` is a known key: a boolean, written only when true.
        let asking = SyncEnvelope(replicaID: "r", cursor: nil, changes: [], omitsEchoes: true)
        #expect((try? SyncEnvelope(reading: asking.jsonBytes()))?.omitsEchoes == true)
        #expect(!String(decoding: SyncEnvelope(replicaID: "r", cursor: nil, changes: []).jsonBytes(), as: UTF8.self).contains("omit_echoes"))
        #expect(failure(#"{"replica_id":"r","omit_echoes":"yes"}"#) != nil)
        guard case .malformed(let duplicate)? = failure(#"{"replica_id":"r","changes":[],"changes":[]}"#) else {
            Issue.record("a duplicate key is malformed")
            return
        }
        #expect(duplicate.message.contains("duplicate key 'changes'"))
        // The schema has next_sync_token as a string: null is not a proposal (found by schemathesis).
        guard case .malformed? = failure(#"{"replica_id":"r","sync_token":"a","next_sync_token":null}"#) else {
            Issue.record("a null next_sync_token is malformed")
            return
        }
        guard case .tooManyChanges(let maximum)? = failure(#"{"replica_id":"r","changes":[1,2,3]}"#, maximumChanges: 2) else {
            Issue.record("more changes than allowed")
            return
        }
        #expect(maximum == 2)
        #expect(failure(#"{"replica_id":"r","changes":[1,2]}"#, maximumChanges: 2) == nil)
        guard case .missingReplicaID? = failure(#"{"cursor":null}"#) else {
            Issue.record("no replica_id")
            return
        }
        for malformed in [
            #"{"replica_id":"r","limit":4.5}"#, #"{"replica_id":"r","limit":null}"#, #"{"replica_id":1}"#,
            #"{"replica_id":"r"} x"#, #"{"replica_id":"r","changes":[{"a":1,"a":2}]}"#, #"{"replica_id":"r","changes":null}"#,
        ] {
            guard case .malformed? = failure(malformed) else {
                Issue.record("\(malformed) is malformed")
                continue
            }
        }
    }

    // MARK: Reply

    @Test func replyIsWrittenAsTheServerAlwaysWroteIt() {
        // §10, an empty pull.
        let empty = SyncReply(
            changes: [], cursor: "c1", hasMore: false, scope: SyncScope(user: "admin", role: .admin, territories: []))
        #expect(Self.text(empty.jsonBytes()) == #"{"changes":[],"cursor":"c1","has_more":false,"rejected":[],"removed":[],"scope":{"user":"admin","role":"admin","territories":[]}}"#)
        let full = SyncReply(
            changes: [Array(#"{"id": "a"}"#.utf8), Array("{}".utf8)], cursor: "c9.0123456789ab", hasMore: true,
            rejected: [RecordRejection(id: "b", code: .outOfScope, message: "m")], removed: ["c", "d"],
            scope: SyncScope(user: "anna", role: .rep, territories: ["north", "east"]), reset: true)
        #expect(Self.text(full.jsonBytes()) == #"{"changes":[{"id": "a"},{}],"cursor":"c9.0123456789ab","has_more":true,"reset":true,"rejected":[{"id":"b","code":"out_of_scope","message":"m"}],"removed":["c","d"],"scope":{"user":"anna","role":"rep","territories":["east","north"]}}"#)
    }

    @Test func replyRoundTrips() throws {
        let replies = [
            SyncReply(changes: [], cursor: "c1", hasMore: false, scope: SyncScope(user: "admin", role: .admin, territories: [])),
            SyncReply(
                changes: [Self.customer], cursor: "c2.0123456789ab", hasMore: true,
                rejected: [
                    RecordRejection(id: "x", code: .foreignClock, message: "m", storedClock: VersionVector(["r": 2])),
                    RecordRejection(id: "y", code: RecordRejection.Code(rawValue: "brand_new"), message: "n"),
                ],
                removed: ["z"], scope: SyncScope(user: "anna", role: .manager, territories: ["south"]), reset: true),
            SyncReply(changes: [], cursor: nil, hasMore: false),
        ]
        for reply in replies {
            let read = try SyncReply(parsing: reply.jsonBytes())
            #expect(read == reply)
            #expect(read.scope?.user == reply.scope?.user)
            #expect(read.jsonBytes() == reply.jsonBytes())
        }
    }

    @Test func documentedRepliesDecode() throws {
        // §1, with concrete values for the placeholders; §10's first sync (jsonb-rendered state).
        let section1 = try SyncReply(parsing: Array(#"""
            {"changes": [], "cursor": "c1042", "has_more": false,
             "rejected": [{"id": "r-1", "code": "out_of_scope", "message": "not yours"}],
             "removed": ["0b6f3a52-7c1d-4e8a-9f30-2d5c8e41a7b9"],
             "scope": {"user": "anna", "role": "rep", "territories": ["east", "north"]}}
            """#.utf8))
        #expect(section1.cursor == "c1042")
        #expect(!section1.hasMore && !section1.reset)
        #expect(section1.rejected == [RecordRejection(id: "r-1", code: .outOfScope, message: "not yours")])
        #expect(section1.removed == ["0b6f3a52-7c1d-4e8a-9f30-2d5c8e41a7b9"])
        #expect(section1.scope == SyncScope(user: "anna", role: .rep, territories: ["north", "east"]))

        let jsonbState = #"{"id": "0b6f3a52-7c1d-4e8a-9f30-2d5c8e41a7b9", "kind": "customer", "tags": {"wholesale": [["anna-laptop", 3]]}, "clock": {"anna-laptop": 3}, "fields": {"name": [{"at": "2026-11-20T09:15:00.000Z", "dot": ["anna-laptop", 1], "user": "anna", "value": "Müller & Söhne KG"}], "phone": [{"at": "2026-11-20T09:15:00.000Z", "dot": ["anna-laptop", 2], "user": "anna", "value": "+49 30 1234567"}]}, "deletion": []}"#
        let section10 = Array(#"{"changes":["#.utf8) + Array(jsonbState.utf8)
            + Array(#"],"cursor":"c1","has_more":false,"rejected":[],"removed":[],"scope":{"user":"admin","role":"admin","territories":[]}}"#.utf8)
        let reply = try SyncReply(parsing: section10)
        #expect(reply.changes == [Array(jsonbState.utf8)])
        #expect(try RecordState(jsonBytes: reply.changes[0]) == RecordState(jsonBytes: Self.customer))
        #expect(reply.scope?.isEverything == true)
        #expect(reply.jsonBytes() == section10, "the server's bytes are reproduced exactly")
    }

    @Test func repliesOfOlderServersDecode() throws {
        let old = try SyncReply(parsing: Array(#"{"changes":[],"cursor":"c3","has_more":false,"rejected":[],"later_key":{"a":[1]}}"#.utf8))
        #expect(old.removed.isEmpty && old.scope == nil && !old.reset)
        let nulls = try SyncReply(parsing: Array(#"{"changes":[],"cursor":null,"has_more":true,"rejected":[],"removed":null,"scope":null}"#.utf8))
        #expect(nulls.cursor == nil && nulls.hasMore && nulls.removed.isEmpty && nulls.scope == nil)
        #expect(throws: JSONScanner.Failure.self) {
            try SyncReply(parsing: Array(#"{"changes":[],"cursor":"c1","cursor":"c2","has_more":false}"#.utf8))
        }
    }
}
