import CXModel
import Testing
@testable import CXClient

/// States encoded for the journal ahead of their commit (``EncodedPut``, by the task that
/// decodes a first sync's pages) are written exactly as the commit would have written them,
/// and an encoding never outlives a change of the state or of its pending mark.
@Suite struct EncodedPutTests {
    /// A page's shapes: a plain customer, one with a conflict, a deleted one, a merged
    /// duplicate, and activities.
    static func states() throws -> [RecordState] {
        let survivor = Fixtures.customer("Survivor", territory: "north")
        var base = Fixtures.customer("Conflicted")
        var theirs = base
        try base.set("phone", to: "555-0100", by: Fixtures.author)
        try theirs.set("phone", to: "555-0199", by: Fixtures.server)
        let conflicted = base.merging(theirs)
        var deleted = Fixtures.customer("Deleted")
        deleted.delete(by: Fixtures.author)
        var duplicate = Fixtures.customer("Duplicate")
        duplicate.markMerged(into: survivor.id, by: Fixtures.author)
        return [survivor, conflicted, deleted, duplicate, Fixtures.purchase(of: survivor.id), Fixtures.activity(of: duplicate.id)]
    }

    @Test(arguments: [false, true])
    func aStateEncodedAheadIsWrittenExactlyAsTheCommitWritesIt(pending: Bool) throws {
        let states = try Self.states()
        #expect(states[1].hasConflicts)
        let atCommit = TemporaryDirectory(), ahead = TemporaryDirectory()
        defer {
            atCommit.cleanup()
            ahead.cleanup()
        }
        let plain = try Fixtures.open(atCommit), encoded = try Fixtures.open(ahead)
        defer {
            plain.close()
            encoded.close()
        }
        try plain.commit(states.map { CacheStore.Change(state: $0, pending: pending) })
        try encoded.commit(states.map { CacheStore.Change(EncodedPut($0, pending: pending)) })

        #expect(try journal(of: encoded) == journal(of: plain))
        #expect(encoded.committedFacts == plain.committedFacts)
        for state in states {
            let written = try #require(encoded.writtenRecords[state.id]), expected = try #require(plain.writtenRecords[state.id])
            #expect(written.kind == expected.kind && written.namesSurvivor == expected.namesSurvivor && written.customerID == expected.customerID)
            #expect(try encoded.state(state.id) == state)
            #expect(try encoded.isPending(state.id) == pending)
        }
        #expect(try encoded.conflictedIDs() == [states[1].id])
    }

    @Test func changingTheStateOrThePendingMarkDropsTheEncoding() throws {
        let state = try Self.states()[1]
        var change = CacheStore.Change(EncodedPut(state, pending: false))
        #expect(change.encoded != nil)
        change.pending = true
        #expect(change.encoded == nil)

        change = CacheStore.Change(EncodedPut(state, pending: false))
        try change.state.set("phone", to: "555-0142", by: Fixtures.author)
        #expect(change.encoded == nil)

        // What is written then is the changed state, encoded at the commit.
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let store = try Fixtures.open(dir)
        defer { store.close() }
        try store.commit([change])
        #expect(try store.state(state.id)?.displayedValue("phone") == "555-0142")
        #expect(try store.isPending(state.id) == false)
    }

    /// The journal file of `store`'s generation.
    private func journal(of store: CacheStore) throws -> [UInt8] {
        let generation = try #require(store.generationDirectory)
        return try #require(try POSIX.readFile(generation + "/journal.jsonl"))
    }
}
