import CXModel
import CXSampleData
import Foundation
import Testing
@testable import CXClient

/// A cache written before the compact state format (its journal and snapshot hold expanded
/// states) keeps working: every state reads, reports see every record, and compaction carries
/// the old lines over; what is written from then on is compact.
@Suite struct ExpandedStateCacheTests {
    @Test func aCacheOfExpandedStatesReadsCompactsAndWritesCompact() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let states = SampleBook.generate(seed: 41, customers: 40)
        // The journal an older cx wrote: one batch of puts of expanded states.
        do {
            let store = try Fixtures.open(dir)
            let journalPath = try #require(store.generationDirectory) + "/journal.jsonl"
            store.close()
            var lines = Journal.batchLine(count: states.count)
            for state in states {
                lines += Journal.putLine(
                    id: state.id, kind: state.kind, pending: false, conflicted: state.hasConflicts, deleted: state.isDeleted,
                    customerID: state.kind == .activity ? state.displayedValue("customer_id") : nil,
                    state: state.jsonBytes(.expanded), view: state.kind == .customer ? RecordView.jsonBytes(state) : nil)
            }
            let handle = try #require(FileHandle(forWritingAtPath: journalPath))
            handle.seekToEndOfFile()
            handle.write(Data(lines))
            handle.closeFile()
        }

        let store = try Fixtures.open(dir)
        defer { store.close() }
        func expectEveryState() throws {
            for state in states { #expect(try store.state(state.id) == state) }
            var read: [String: RecordState] = [:]
            try store.forEachState { read[$0.id] = $0 }
            #expect(read.count == states.count)
            #expect(read.values.allSatisfy { states.contains($0) })
            #expect(
                InsightFactsCacheTests.Normalized(try store.customerBook())
                    == InsightFactsCacheTests.Normalized(CustomerBook(states: states)))
        }
        try expectEveryState()
        #expect(try store.stateBytes(states[0].id)?.bytes == states[0].jsonBytes(.expanded), "read as written")

        // Compaction moves the lines into the snapshot tables, still expanded.
        try store.compact()
        #expect(try store.stateBytes(states[0].id)?.bytes == states[0].jsonBytes(.expanded))
        try expectEveryState()

        // A new write of a record stores it compact.
        var edited = try #require(states.first { $0.kind == .customer })
        try edited.set("notes", to: "called", by: Fixtures.author)
        try store.commit([.init(state: edited, pending: true)])
        #expect(try store.stateBytes(edited.id)?.bytes == edited.jsonBytes(.compact))
        #expect(try store.state(edited.id) == edited)
    }
}
