import CXModel
import Testing
@testable import CXClient

/// What a cache remembers of the records it wrote (``WrittenRecord``), which the end of a sync
/// trusts instead of reading them back: right after its own writes and compactions, forgotten
/// once another process has written.
@Suite struct WrittenRecordTests {
    @Test func aStoreKnowsWhatItWroteUntilAnotherProcessWrites() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let survivor = Fixtures.customer("Survivor"), duplicate = Fixtures.customer("Duplicate")
        let purchase = Fixtures.purchase(of: duplicate.id)
        let store = try Fixtures.open(dir)
        defer { store.close() }
        try store.commit([.init(state: survivor, pending: false), .init(state: duplicate, pending: false), .init(state: purchase, pending: false)])
        #expect(store.writtenRecords[duplicate.id]?.kind == .customer)
        #expect(store.writtenRecords[duplicate.id]?.namesSurvivor == false)
        #expect(store.writtenRecords[purchase.id]?.customerID == duplicate.id)

        // Its own compaction moves records and changes none: still known.
        try store.compact()
        #expect(store.writtenRecords.count == 3)

        // Another process merges the duplicate meanwhile: what this one wrote is no longer sure.
        store.suspend()
        do {
            let other = try Fixtures.open(dir)
            var merged = duplicate
            merged.markMerged(into: survivor.id, by: Fixtures.author)
            try other.commit([.init(state: merged, pending: true)])
            other.close()
        }
        try store.resume()
        #expect(store.writtenRecords.isEmpty)
        #expect(try store.state(duplicate.id)?.mergedInto == survivor.id)

        // A drop forgets the record.
        try store.commit([.init(state: survivor, pending: false)], drops: [(survivor.id, .customer)])
        #expect(store.writtenRecords[survivor.id] == nil)
    }

    @Test func pastItsLimitAStoreRemembersNoNewRecordButKeepsTheOnesItHasTrue() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let survivor = Fixtures.customer("Survivor"), duplicate = Fixtures.customer("Duplicate"), other = Fixtures.customer("Other")
        let store = try Fixtures.open(dir)
        defer { store.close() }
        store.writtenRecordsLimit = 2
        try store.commit([.init(state: survivor, pending: false), .init(state: duplicate, pending: false)])
        try store.commit([.init(state: other, pending: false)])
        #expect(store.writtenRecords.count == 2)
        #expect(store.writtenRecords[other.id] == nil, "past the limit a new record is read back when needed")

        // A remembered record written again is remembered as it is now, not as it was.
        var merged = duplicate
        merged.markMerged(into: survivor.id, by: Fixtures.author)
        try store.commit([.init(state: merged, pending: true)])
        #expect(store.writtenRecords[duplicate.id]?.namesSurvivor == true)
        #expect(store.writtenRecords.count == 2)
    }
}
