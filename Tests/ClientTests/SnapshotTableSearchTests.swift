import CXModel
import CXSampleData
import Testing
@testable import CXClient

/// Looking ids up in a snapshot table gives the same answers before and after the table keeps
/// every 64th id in memory (after many searches), for present ids, ids between them, and ids
/// before the first and after the last.
@Suite struct SnapshotTableSearchTests {
    /// A cache in `dir` holding 1,000 customers compacted into its snapshot: the store, its
    /// customers' table and their ids in table order.
    static func compactedTable(in dir: TemporaryDirectory) throws -> (CacheStore, SnapshotTable, [String]) {
        let customers = (0..<1_000).map { Fixtures.customer("Customer \($0)") }
        let store = try Fixtures.open(dir)
        try store.commit(customers.map { .init(state: $0, pending: false) })
        try store.compact()
        return (store, try #require(store.customers), customers.map(\.id).sorted())
    }

    @Test func searchesAgreeWithTheSortedIDsBeforeAndAfterTheFence() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let (store, table, sorted) = try Self.compactedTable(in: dir)
        defer { store.close() }
        var rng = SeededRandomGenerator(seed: 64)
        let probes = sorted + (0..<300).map { _ in RecordID.random(using: &rng) }
            + ["00000000-0000-4000-8000-000000000000", "ffffffff-ffff-4fff-bfff-ffffffffffff"]
        // Twice: the first pass crosses the point where the fence is built.
        for pass in 1...2 {
            for probe in probes {
                let expected = sorted.firstIndex { !$0.utf8.lexicographicallyPrecedes(probe.utf8) } ?? sorted.count
                #expect(try table.lowerBound(Array(probe.utf8)) == expected, "pass \(pass): \(probe)")
                #expect(try table.position(of: probe) == (sorted.contains(probe) ? expected : nil))
            }
        }
        #expect(try table.ids(withPrefix: String(sorted[500].prefix(6)), limit: 5).first == sorted[500])
    }

    /// The index lines a search keeps and the window of states read ahead (both for a sync
    /// reading its batches in id order) give what the files hold, read in order or not.
    @Test func entriesAndStatesAgreeWithTheFilesInOrderAndOutOfOrder() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let (store, table, sorted) = try Self.compactedTable(in: dir)
        defer { store.close() }
        let index = try table.indexFileBytes()
        let states = try #require(table.stateFile).readAll()
        let position = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
        var rng = SeededRandomGenerator(seed: 81)
        for ids in [sorted, sorted.shuffled(using: &rng), sorted, sorted.reversed()] {
            for id in ids {
                let entry = try #require(try table.find(id))
                let line = try #require(position[id]) * SnapshotTable.lineWidth
                let expected = try SnapshotTable.parse(index[line..<(line + SnapshotTable.lineWidth)], path: "index")
                #expect(entry.id == id && expected.id == id)
                #expect([entry.stateOffset, entry.stateLength, entry.viewOffset, entry.viewLength]
                    == [expected.stateOffset, expected.stateLength, expected.viewOffset, expected.viewLength])
                let bytes = try table.stateBytes(entry)
                #expect(bytes == Array(states[expected.stateOffset..<(expected.stateOffset + expected.stateLength)]))
                #expect(try RecordState(jsonBytes: bytes, values: .stored).id == id)
            }
        }
    }
}
