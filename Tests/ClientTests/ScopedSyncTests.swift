import CXModel
import Foundation
import Testing
@testable import CXClient

/// Territory-scoped sync on the client: push order, removals, rescopes and what is kept.
@Suite struct ScopedSyncTests {
    static let northEast = SyncScope(role: .rep, territories: ["north", "east"])
    static let north = SyncScope(role: .rep, territories: ["north"])

    func engine(_ dir: TemporaryDirectory, batchSize: Int = 1000) -> SyncEngine {
        var engine = SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
        engine.batchSize = batchSize
        return engine
    }

    /// A cache whose snapshot holds `synced` (nothing pending), at `cursor`, with `scope` stored.
    func seed(_ dir: TemporaryDirectory, synced: [RecordState], cursor: String?, scope: SyncScope?) throws {
        try CacheStore.bulkLoad(directory: dir.path + "/cache", states: synced, cursor: cursor)
        if let scope {
            let store = try Fixtures.open(dir)
            defer { store.close() }
            try store.commit([], scope: scope)
        }
    }

    func edited(_ state: RecordState, phone: String = "555") throws -> RecordState {
        var state = state
        if state.kind == .customer {
            try state.set("phone", to: phone, by: Fixtures.author)
        } else {
            try state.set("note", to: phone, by: Fixtures.author)
        }
        return state
    }

    @Test func pushesCustomersBeforeActivities() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        // Ids chosen so that id order would push the activities first.
        let customer = Fixtures.customer("Late", id: "ffffffff-0000-4000-8000-000000000001", by: Fixtures.author)
        let other = Fixtures.customer("Other", id: "eeeeeeee-0000-4000-8000-000000000002", by: Fixtures.author)
        let first = Fixtures.activity(of: customer.id, id: "00000000-0000-4000-8000-000000000003", by: Fixtures.author)
        let second = Fixtures.activity(of: other.id, id: "11111111-0000-4000-8000-000000000004", by: Fixtures.author)
        let store = try Fixtures.open(dir)
        try store.commit([first, second, customer, other].map { .init(state: $0, pending: true) })
        store.close()
        let transport = FakeTransport((0..<4).map { index in { _ in SyncResponse(changes: [], cursor: "c\(index)", hasMore: false) } })
        let report = try await engine(dir, batchSize: 1).run(client: transport)

        #expect(try transport.envelopes.map(Envelope.pushedIDs) == [[other.id], [customer.id], [first.id], [second.id]])
        #expect(report.pushed == 4)
        let reader = try Fixtures.open(dir, exclusive: false)
        defer { reader.close() }
        #expect(try reader.pendingIDs().isEmpty)
    }

    /// A page that delivers an activity under its new customer and removes the customer it
    /// left (merged away, or moved out of the scope) keeps the activity: the cache's index
    /// still files it under the old customer until the page is written.
    @Test func aRemovedCustomerDoesNotTakeAnActivityTheSamePageMovedToAnotherCustomer() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let leaving = Fixtures.customer("Leaving", territory: "north", by: Fixtures.server)
        let staying = Fixtures.customer("Staying", territory: "north", by: Fixtures.server)
        let visit = Fixtures.activity(of: leaving.id)
        try seed(dir, synced: [leaving, staying, visit], cursor: "c1", scope: Self.northEast)
        var moved = visit
        try moved.set("customer_id", to: staying.id, by: Fixtures.server)
        let transport = FakeTransport([
            { _ in SyncResponse(changes: [moved.jsonBytes()], cursor: "c2", hasMore: false, removed: [leaving.id], scope: Self.northEast) }
        ])
        _ = try await engine(dir).run(client: transport)

        let reader = try Fixtures.open(dir, exclusive: false)
        defer { reader.close() }
        #expect(try reader.state(leaving.id) == nil)
        #expect(try reader.state(visit.id)?.displayedValue("customer_id") == staying.id, "the activity moved, it did not leave")
        #expect(try reader.activityIDs(ofCustomer: staying.id) == [visit.id])
    }

    @Test func aRemovedCustomerGoesWithItsActivitiesButPendingRecordsAreKept() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let leaving = Fixtures.customer("Leaving", territory: "east", by: Fixtures.server)
        let visit = Fixtures.activity(of: leaving.id)
        let note = Fixtures.activity(of: leaving.id)
        let staying = Fixtures.customer("Staying", territory: "north", by: Fixtures.server)
        let stayingVisit = Fixtures.activity(of: staying.id)
        try seed(dir, synced: [leaving, visit, note, staying, stayingVisit], cursor: "c1", scope: Self.northEast)
        // An offline edit of one of the leaving customer's activities, which the server refuses.
        let editedNote = try edited(note)
        var store = try Fixtures.open(dir)
        try store.commit([.init(state: editedNote, pending: true)])
        store.close()

        let refusal = "customer \(leaving.id) is in territory east, which you no longer hold"
        let transport = FakeTransport([{ (envelope: [UInt8]) throws -> SyncResponse in
            #expect(try Envelope.pushedIDs(envelope) == [note.id])
            return SyncResponse(
                changes: [], cursor: "c2", hasMore: false,
                rejected: [.init(id: note.id, code: .outOfScope, message: refusal)],
                removed: [leaving.id, RecordID.random()], scope: Self.northEast)
        }])
        let report = try await engine(dir).run(client: transport)

        #expect(transport.envelopes.count == 1)
        #expect(report.removed == 2)
        #expect(report.kept == [.init(id: note.id, reason: "left your territories but has changes the server refused: \(refusal)")])
        #expect(report.rejected.map(\.code) == [.outOfScope])
        // The same answers from the journal, then from the compacted snapshot.
        for round in 0..<2 {
            store = try Fixtures.open(dir, exclusive: round == 1)
            #expect(try store.state(leaving.id) == nil)
            #expect(try store.state(visit.id) == nil)
            #expect(try store.kind(of: visit.id) == nil)
            #expect(try store.viewBytes(leaving.id) == nil)
            #expect(try store.ids(withPrefix: String(leaving.id.prefix(8))).isEmpty)
            #expect(try store.state(editedNote.id) == editedNote)
            #expect(try store.pendingIDs() == [note.id])
            #expect(try store.activityIDs(ofCustomer: leaving.id) == [note.id])
            #expect(try store.state(staying.id) == staying)
            #expect(try store.activityIDs(ofCustomer: staying.id) == [stayingVisit.id])
            #expect(try store.counts().customers == 1)
            #expect(try store.counts().activities == 2)
            #expect(Set(try store.records().map(\.id)) == [staying.id, stayingVisit.id, note.id])
            if round == 0 {  // the scans skip dropped snapshot lines (slow in debug builds: once)
                var names: [String] = []
                try store.forEachCustomerView { line, _ in names.append(try RecordView(jsonBytes: line).value("name")!) }
                #expect(names == ["Staying"])
                var all: Set<String> = []
                try store.forEachState { all.insert($0.id) }
                #expect(all == [staying.id, stayingVisit.id, note.id])
            }
            // Compaction honours the drops: the same answers from the new snapshot.
            if round == 1 {
                try store.compact()
                #expect(store.journalSize == 0)
                #expect(try store.state(visit.id) == nil)
                #expect(try store.counts().customers == 1)
                #expect(try store.counts().activities == 2)
                #expect(try store.activityIDs(ofCustomer: leaving.id) == [note.id])
            }
            store.close()
        }
    }

    @Test func aRecordAckedInTheSameExchangeIsDroppedAndOneAckedLaterToo() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        // Offline: a customer and its visit, created here; both leave the scope in the first reply.
        let customer = Fixtures.customer("Handed off", territory: "east", by: Fixtures.author)
        let visit = Fixtures.activity(of: customer.id, by: Fixtures.author)
        try seed(dir, synced: [], cursor: "c1", scope: Self.northEast)
        let store = try Fixtures.open(dir)
        try store.commit([.init(state: customer, pending: true), .init(state: visit, pending: true)])
        store.close()
        let transport = FakeTransport([
            { _ in SyncResponse(changes: [], cursor: "c2", hasMore: false, removed: [customer.id], scope: Self.northEast) },
            { _ in SyncResponse(changes: [], cursor: "c3", hasMore: false, scope: Self.northEast) },
        ])
        // Dropped with the reply that removed it (same journal batch), not only at the end.
        final class Box: @unchecked Sendable { var seen: [String?] = [] }  // used from one task
        let box = Box()
        transport.onExchange = { count in
            guard count == 2 else { return }
            let reader = try Fixtures.open(dir, exclusive: false)
            defer { reader.close() }
            box.seen = [try reader.kind(of: customer.id)?.rawValue, try reader.kind(of: visit.id)?.rawValue]
        }
        let report = try await engine(dir, batchSize: 1).run(client: transport)
        #expect(box.seen == [nil, "activity"])

        // The customer went out (and was acknowledged) in the exchange that removed it: gone.
        // Its visit was still unpushed then (kept), went out next, and was dropped at the end.
        #expect(try transport.envelopes.map(Envelope.pushedIDs) == [[customer.id], [visit.id]])
        #expect(report.removed == 2)
        #expect(report.kept.isEmpty)
        let reader = try Fixtures.open(dir, exclusive: false)
        defer { reader.close() }
        #expect(try reader.state(customer.id) == nil)
        #expect(try reader.state(visit.id) == nil)
        #expect(try reader.pendingIDs().isEmpty)
        #expect([try reader.counts().customers, try reader.counts().activities] == [0, 0])
    }

    @Test func aScopeChangeResyncsAndDropsWhatWasNotDeliveredExceptPendingRecords() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let northOne = Fixtures.customer("North 1", territory: "north", by: Fixtures.server)
        let northVisit = Fixtures.activity(of: northOne.id)
        let eastOne = Fixtures.customer("East 1", territory: "east", by: Fixtures.server)
        let eastVisit = Fixtures.activity(of: eastOne.id)
        let eastTwo = Fixtures.customer("East 2", territory: "east", by: Fixtures.server)
        try seed(dir, synced: [northOne, northVisit, eastOne, eastVisit, eastTwo], cursor: "c5", scope: Self.northEast)
        let editedEastTwo = try edited(eastTwo)
        var store = try Fixtures.open(dir)
        try store.commit([.init(state: editedEastTwo, pending: true)])
        store.close()
        let northTwo = Fixtures.customer("North 2", territory: "north", by: Fixtures.server)
        let transport = FakeTransport([
            // The pending edit goes out with the first request; the server now says "north only".
            { _ in
                SyncResponse(changes: [], cursor: "c6", hasMore: false,
                             rejected: [.init(id: eastTwo.id, code: .territoryNotHeld, message: "you no longer hold east")],
                             scope: Self.north)
            },
            { _ in SyncResponse(changes: [northOne.jsonBytes(), northVisit.jsonBytes()], cursor: "r1", hasMore: true, scope: Self.north) },
            { _ in SyncResponse(changes: [northTwo.jsonBytes()], cursor: "r2", hasMore: false, scope: Self.north) },
        ])
        let report = try await engine(dir).run(client: transport)

        #expect(try transport.envelopes.map(Envelope.cursor) == ["c5", nil, "r1"])
        #expect(try transport.envelopes.map(Envelope.pushedIDs) == [[eastTwo.id], [], []])
        #expect(report.rescoped)
        #expect(report.scopeChanged)
        #expect(report.scope == Self.north)
        #expect(report.removed == 2)
        #expect(report.kept == [.init(id: eastTwo.id, reason: "left your territories but has changes the server refused: you no longer hold east")])
        #expect(report.pulled == 1)
        #expect(CX.Sync.scopeNote(report) == "Your scope changed (now: rep of north); your book was re-synced.")
        #expect(CX.Sync.summary(report, server: "http://cx.test").contains("2 records left your territories and were removed."))
        store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        #expect(store.scope == Self.north)
        #expect(store.isRescoping == false)
        #expect(store.cursor == "r2")
        #expect(try store.state(eastOne.id) == nil)
        #expect(try store.state(eastVisit.id) == nil)
        #expect(try store.state(eastTwo.id) == editedEastTwo)
        #expect(try store.pendingIDs() == [eastTwo.id])
        #expect(Set(try store.records().map(\.id)) == [northOne.id, northVisit.id, northTwo.id, eastTwo.id])
    }

    @Test func anInterruptedRescopeRestartsFromTheBeginning() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let northOne = Fixtures.customer("North 1", territory: "north", by: Fixtures.server)
        let eastOne = Fixtures.customer("East 1", territory: "east", by: Fixtures.server)
        try seed(dir, synced: [northOne, eastOne], cursor: "c5", scope: Self.northEast)
        let failing = FakeTransport([
            { _ in SyncResponse(changes: [], cursor: "c6", hasMore: false, scope: Self.north) },
            { _ in SyncResponse(changes: [northOne.jsonBytes()], cursor: "r1", hasMore: true, scope: Self.north) },
            { _ in throw CXError(.unavailable, "cannot reach the server") },
        ])
        await #expect(throws: CXError.self) { try await engine(dir).run(client: failing) }
        #expect(try failing.envelopes.map(Envelope.cursor) == ["c5", nil, "r1"])
        var store = try Fixtures.open(dir, exclusive: false)
        #expect(store.isRescoping)
        #expect(store.scope == Self.north)
        #expect(store.cursor == "r1")
        #expect(try store.state(eastOne.id) == eastOne)  // nothing dropped before the book is complete
        store.close()

        // The next sync starts over from a null cursor, although a page was applied.
        let resuming = FakeTransport([
            { _ in SyncResponse(changes: [northOne.jsonBytes()], cursor: "r2", hasMore: false, scope: Self.north) }
        ])
        let report = try await engine(dir).run(client: resuming)
        #expect(try resuming.envelopes.map(Envelope.cursor) == [nil])
        #expect(report.rescoped)
        #expect(report.scopeChanged == false)
        #expect(report.removed == 1)
        #expect(CX.Sync.scopeNote(report) == "Your book was re-synced with your scope (now: rep of north).")
        store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        #expect(store.isRescoping == false)
        #expect(store.cursor == "r2")
        #expect(try store.state(eastOne.id) == nil)
        #expect(try store.state(northOne.id) == northOne)
    }

    @Test func aFreshCacheStoresTheScopeWithoutARescope() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        // Created offline before the first sync; the server takes it but does not send it back.
        let local = Fixtures.customer("Local", territory: "north", by: Fixtures.author)
        var store = try Fixtures.open(dir)
        try store.commit([.init(state: local, pending: true)])
        store.close()
        let remote = Fixtures.customer("Remote", territory: "north", by: Fixtures.server)
        let transport = FakeTransport([
            { _ in SyncResponse(changes: [remote.jsonBytes()], cursor: "c1", hasMore: true, scope: Self.north) },
            { _ in SyncResponse(changes: [], cursor: "c2", hasMore: false, scope: Self.north) },
        ])
        let report = try await engine(dir).run(client: transport)
        #expect(try transport.envelopes.map(Envelope.cursor) == [nil, "c1"])
        #expect(report.rescoped == false)
        #expect(report.removed == 0)
        #expect(CX.Sync.scopeNote(report) == nil)
        store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        #expect(store.scope == Self.north)
        #expect(store.isRescoping == false)
        #expect(try store.state(local.id) == local)
        #expect(try store.state(remote.id) == remote)
    }

    @Test func anUnscopedCacheWithACursorIsResyncedOnItsFirstScopedReply() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let northOne = Fixtures.customer("North 1", territory: "north", by: Fixtures.server)
        let eastOne = Fixtures.customer("East 1", territory: "east", by: Fixtures.server)
        let eastVisit = Fixtures.activity(of: eastOne.id)
        try seed(dir, synced: [northOne, eastOne, eastVisit], cursor: "c9", scope: nil)
        let transport = FakeTransport([
            { _ in SyncResponse(changes: [], cursor: "c10", hasMore: false, scope: Self.north) },
            { _ in SyncResponse(changes: [northOne.jsonBytes()], cursor: "r1", hasMore: false, scope: Self.north) },
        ])
        let report = try await engine(dir).run(client: transport)
        #expect(try transport.envelopes.map(Envelope.cursor) == ["c9", nil])
        #expect(report.rescoped)
        #expect(report.scopeChanged == false)
        #expect(report.removed == 2)
        let store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        #expect(store.scope == Self.north)
        #expect(try store.state(eastOne.id) == nil)
        #expect(try store.state(eastVisit.id) == nil)
        #expect([try store.counts().customers, try store.counts().activities] == [1, 0])
    }

    @Test func anOlderServerWithoutScopesChangesNothingScopeRelated() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let eastOne = Fixtures.customer("East 1", territory: "east", by: Fixtures.server)
        try seed(dir, synced: [eastOne], cursor: "c9", scope: nil)
        let transport = FakeTransport([{ _ in SyncResponse(changes: [], cursor: "c10", hasMore: false) }])
        let report = try await engine(dir).run(client: transport)
        #expect(transport.envelopes.count == 1)
        #expect(report.rescoped == false)
        let store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        #expect(store.scope == nil)
        #expect(try store.state(eastOne.id) == eastOne)
    }

    @Test func scopeAndDropsSurviveCompactionAndOldMetaFilesStillLoad() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let kept = Fixtures.customer("Kept", by: Fixtures.server)
        let gone = Fixtures.customer("Gone", by: Fixtures.server)
        let goneVisit = Fixtures.activity(of: gone.id)
        try seed(dir, synced: [kept, gone, goneVisit], cursor: "c1", scope: nil)
        // A meta.json as older versions wrote it (no scope keys) loads.
        let store = try Fixtures.open(dir)
        #expect(store.scope == nil)
        #expect(store.isRescoping == false)
        try store.commit([], drops: [(gone.id, .customer), (goneVisit.id, .activity)], resetsCursor: true, scope: Self.north, rescoping: true)
        #expect(store.cursor == nil)
        try store.compact()
        store.close()
        let reader = try Fixtures.open(dir, exclusive: false)
        defer { reader.close() }
        #expect(reader.journalSize == 0)
        #expect(reader.cursor == nil)
        #expect(reader.scope == Self.north)
        #expect(reader.isRescoping)
        #expect(try reader.state(gone.id) == nil)
        #expect(try reader.activityIDs(ofCustomer: gone.id).isEmpty)
        #expect([try reader.counts().customers, try reader.counts().activities] == [1, 0])
        #expect(try reader.records().map(\.id) == [kept.id])
    }
}
