import CXModel
import Foundation
import Testing
@testable import CXClient

@Suite struct CacheStoreTests {
    @Test func roundTripThroughJournalAndSnapshot() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let acme = Fixtures.customer("Acme", territory: "north")
        let bistro = Fixtures.customer("Bistro", territory: "south")
        let purchase = Fixtures.purchase(of: acme.id)
        do {
            let store = try Fixtures.open(dir)
            try store.commit([.init(state: acme, pending: true), .init(state: bistro, pending: false), .init(state: purchase, pending: true)])
            store.close()
        }
        for round in 0..<2 {
            let store = try Fixtures.open(dir, exclusive: false)
            #expect(try store.state(acme.id) == acme)
            #expect(try store.state(bistro.id) == bistro)
            #expect(try store.state(purchase.id) == purchase)
            #expect(try store.viewBytes(acme.id) == RecordView.jsonBytes(acme))
            #expect(try store.activityIDs(ofCustomer: acme.id) == [purchase.id])
            #expect(try store.pendingIDs() == [acme.id, purchase.id].sorted())
            #expect(try store.counts().customers == 2)
            #expect(try store.counts().activities == 1)
            var names: [String] = []
            try store.forEachCustomerView { line, _ in names.append(try RecordView(jsonBytes: line).value("name")!) }
            #expect(Set(names) == ["Acme", "Bistro"])
            store.close()
            if round == 0 {
                let writer = try Fixtures.open(dir)
                try writer.compact()
                #expect(writer.journalSize == 0)
                writer.close()
            }
        }
    }

    @Test func prefixLookupFindsUniqueAndReportsAmbiguous() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let one = Fixtures.customer("One", id: "abcdef12-0000-4000-8000-000000000001")
        let two = Fixtures.customer("Two", id: "abcdef12-0000-4000-8000-000000000002")
        let three = Fixtures.customer("Three", id: "abcdef99-0000-4000-8000-000000000003")
        let store = try Fixtures.open(dir)
        try store.commit([.init(state: one, pending: true), .init(state: two, pending: true)])
        try store.compact()  // one and two in the snapshot, three in the journal
        try store.commit([.init(state: three, pending: true)])

        #expect(try IDResolver.resolve("abcdef99", in: store).id == three.id)
        #expect(try IDResolver.resolve("ABCDEF12-0000-4000-8000-000000000002", in: store).id == two.id)
        #expect(try IDResolver.resolve("abcdef12-0000-4000-8000-000000000001", in: store).kind == .customer)
        let ambiguous = #expect(throws: CXError.self) { try IDResolver.resolve("abcdef", in: store) }
        #expect(ambiguous?.code == .usage)
        #expect(ambiguous?.message.contains(one.id) == true)
        #expect(ambiguous?.message.contains(three.id) == true)
        let short = #expect(throws: CXError.self) { try IDResolver.resolve("abcde", in: store) }
        #expect(short?.code == .usage)
        let missing = #expect(throws: CXError.self) { try IDResolver.resolve("0123456", in: store) }
        #expect(missing?.code == .failure)
        let wrongKind = #expect(throws: CXError.self) { try IDResolver.resolve("abcdef99", in: store, kind: .activity) }
        #expect(wrongKind?.code == .usage)
        store.close()
    }

    @Test func journalReplayKeepsLatestStateAndPendingFlags() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        var acme = Fixtures.customer("Acme")
        let store = try Fixtures.open(dir)
        try store.commit([.init(state: acme, pending: true)])
        try store.compact()
        try acme.set("phone", to: "555-0101", by: Fixtures.author)
        try store.commit([.init(state: acme, pending: true)])
        try store.commit([], acks: [acme.id], cursor: "c42", synced: Timestamp(millisecondsSinceEpoch: 1_790_000_000_000))
        try acme.set("city", to: "Lyon", by: Fixtures.author)
        try store.commit([.init(state: acme, pending: true)])
        store.close()

        let reader = try Fixtures.open(dir, exclusive: false)
        #expect(try reader.state(acme.id)?.displayedValue("phone") == "555-0101")
        #expect(try reader.state(acme.id)?.displayedValue("city") == "Lyon")
        #expect(try reader.isPending(acme.id))
        #expect(reader.cursor == "c42")
        #expect(reader.lastSync == "2026-09-21T14:13:20.000Z")
        reader.close()

        let writer = try Fixtures.open(dir)
        try writer.commit([], acks: [acme.id])
        try writer.compact()
        #expect(try writer.pendingIDs().isEmpty)
        #expect(writer.cursor == "c42")
        writer.close()
    }

    @Test func tornLastLineIsIgnoredAndTruncatedByTheNextWriter() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let acme = Fixtures.customer("Acme")
        let bistro = Fixtures.customer("Bistro")
        let store = try Fixtures.open(dir)
        try store.commit([.init(state: acme, pending: true)])
        let journalPath = store.generationDirectory! + "/journal.jsonl"
        store.close()

        // A crash in the middle of appending the next put.
        let line = CacheStore.putLine(.init(state: bistro, pending: true))
        let handle = try #require(FileHandle(forWritingAtPath: journalPath))
        handle.seekToEndOfFile()
        handle.write(Data(line.prefix(line.count / 2)))
        handle.closeFile()

        let reader = try Fixtures.open(dir, exclusive: false)
        #expect(try reader.state(acme.id) == acme)
        #expect(try reader.state(bistro.id) == nil)
        #expect(reader.warnings.isEmpty)
        reader.close()

        let writer = try Fixtures.open(dir)
        let third = Fixtures.customer("Third")
        try writer.commit([.init(state: third, pending: true)])
        writer.close()
        let after = try Fixtures.open(dir, exclusive: false)
        #expect(try after.state(third.id) == third)
        #expect(try after.state(acme.id) == acme)
        #expect(after.warnings.isEmpty)
        after.close()
    }

    @Test func tornBatchAppliesNothing() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let acme = Fixtures.customer("Acme")
        let store = try Fixtures.open(dir)
        try store.commit([.init(state: acme, pending: true)])
        let journalPath = store.generationDirectory! + "/journal.jsonl"
        store.close()
        let one = Fixtures.customer("One"), two = Fixtures.customer("Two")
        var torn = Array("{\"op\":\"batch\",\"lines\":3}\n".utf8)
        torn += CacheStore.putLine(.init(state: one, pending: false))
        torn += CacheStore.putLine(.init(state: two, pending: false))
        let handle = try #require(FileHandle(forWritingAtPath: journalPath))
        handle.seekToEndOfFile()
        handle.write(Data(torn))
        handle.closeFile()
        let reader = try Fixtures.open(dir, exclusive: false)
        #expect(try reader.state(one.id) == nil)
        #expect(try reader.state(two.id) == nil)
        #expect(try reader.state(acme.id) == acme)
        reader.close()
    }

    @Test func interruptedCompactionLeavesTheOldGeneration() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let acme = Fixtures.customer("Acme")
        let store = try Fixtures.open(dir)
        try store.commit([.init(state: acme, pending: true)])
        try store.compact()
        var edited = acme
        try edited.set("phone", to: "555", by: Fixtures.author)
        try store.commit([.init(state: edited, pending: true)])
        store.close()
        // What a crash during the next compaction leaves: a half-written generation and a
        // temporary CURRENT that was never renamed.
        let cache = dir.path + "/cache"
        try FileManager.default.createDirectory(atPath: cache + "/gen-00000002", withIntermediateDirectories: true)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: cache + "/gen-00000002/customers.idx"))
        try Data("gen-00000002\n".utf8).write(to: URL(fileURLWithPath: cache + "/CURRENT.tmp-999"))

        let reader = try Fixtures.open(dir, exclusive: false)
        #expect(try reader.state(acme.id) == edited)
        reader.close()
        let writer = try Fixtures.open(dir)
        #expect(!FileManager.default.fileExists(atPath: cache + "/gen-00000002"))
        #expect(!FileManager.default.fileExists(atPath: cache + "/CURRENT.tmp-999"))
        try writer.compact()
        #expect(try writer.state(acme.id) == edited)
        #expect(try writer.pendingIDs() == [acme.id])
        writer.close()
    }

    @Test func compactionKeepsConflictsAndActivitiesIndex() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let acme = Fixtures.customer("Acme")
        var left = acme, right = acme
        try left.set("phone", to: "1", by: Author(replica: "a", user: "alice", at: Timestamp(millisecondsSinceEpoch: 1)))
        try right.set("phone", to: "2", by: Author(replica: "b", user: "bob", at: Timestamp(millisecondsSinceEpoch: 2)))
        let merged = left.merging(right)
        #expect(merged.hasConflicts)
        let purchases = (0..<3).map { _ in Fixtures.purchase(of: acme.id) }
        let store = try Fixtures.open(dir)
        try store.commit([.init(state: merged, pending: false)] + purchases.map { .init(state: $0, pending: false) })
        try store.compact()
        #expect(try store.conflictedIDs() == [acme.id])
        #expect(try store.activityIDs(ofCustomer: acme.id) == purchases.map(\.id).sorted())
        let extra = Fixtures.purchase(of: acme.id)
        try store.commit([.init(state: extra, pending: true)])
        try store.compact()
        #expect(try store.activityIDs(ofCustomer: acme.id) == (purchases + [extra]).map(\.id).sorted())
        store.close()
    }

    @Test func concurrentWritersLoseNothing() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let cache = dir.path + "/cache"
        let ids = try await withThrowingTaskGroup(of: [String].self) { group in
            for writer in 0..<2 {
                group.addTask {
                    try await Task.detached {
                        var ids: [String] = []
                        for index in 0..<100 {
                            let store = try CacheStore.open(directory: cache, exclusive: true)
                            let state = Fixtures.customer("W\(writer)-\(index)", by: Author(replica: "w\(writer)"))
                            try store.commit([.init(state: state, pending: true)])
                            if index % 40 == 39 { try store.compact() }
                            store.close()
                            ids.append(state.id)
                        }
                        return ids
                    }.value
                }
            }
            var all: [String] = []
            for try await ids in group { all += ids }
            return all
        }
        let store = try CacheStore.open(directory: cache, exclusive: false)
        #expect(try store.counts().customers == 200)
        for id in ids { #expect(try store.state(id) != nil) }
        #expect(try store.pendingIDs().count == 200)
        store.close()
    }
}

/// Compaction folds the journal into the snapshot without changing any answer, and the
/// readers give the same answers from journal over snapshot as from a compacted cache.
@Suite struct CacheCompactionTests {
    /// Every answer the readers give, as comparable text.
    func answers(_ store: CacheStore, customers: [RecordState]) throws -> [String] {
        var lines: [String] = []
        try store.forEachCustomerView { view, deleted in
            lines.append("view \(try RecordView(jsonBytes: view).value("name") ?? "?") deleted=\(deleted)")
        }
        for (id, kind) in try store.records().sorted(by: { $0.id < $1.id }) {
            lines.append("record \(id) \(kind) \(try store.stateBytes(id).map { String(decoding: $0.bytes, as: UTF8.self) } ?? "-")")
        }
        for customer in customers {
            lines.append("activities of \(customer.id): \(try store.activityIDs(ofCustomer: customer.id))")
            lines.append("kind of \(customer.id): \(String(describing: try store.kind(of: customer.id)))")
        }
        let counts = try store.counts()
        lines.append("counts \(counts.customers) \(counts.activities)")
        lines.append("pending \(try store.pendingIDs())")
        lines.append("conflicted \(try store.conflictedIDs())")
        return lines
    }

    @Test func compactionKeepsEveryAnswerOfJournalOverSnapshot() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let store = try Fixtures.open(dir)
        defer { store.close() }
        // A snapshot of ten customers with two activities each.
        let customers = (0..<10).map { Fixtures.customer("C\($0)") }
        let activities = customers.flatMap { customer in (0..<2).map { _ in Fixtures.purchase(of: customer.id) } }
        try store.commit((customers + activities).map { .init(state: $0, pending: false) })
        try store.compact()
        // Over it, a journal: edits of snapshot records, new records sorting anywhere, an
        // activity moved to another customer, and drops of a customer and an activity.
        var edited = customers[3]
        try edited.set("phone", to: "555", by: Fixtures.author)
        var moved = activities[0]
        try moved.set("customer_id", to: customers[9].id, by: Fixtures.author)
        let added = (0..<5).map { Fixtures.customer("N\($0)") }
        let addedActivity = Fixtures.purchase(of: added[0].id)
        try store.commit(
            [.init(state: edited, pending: true), .init(state: moved, pending: true), .init(state: addedActivity, pending: true)]
                + added.map { .init(state: $0, pending: true) },
            drops: [(customers[5].id, .customer), (activities[7].id, .activity)])
        let all = customers + added
        let before = try answers(store, customers: all)
        #expect(before.contains("counts 14 20"))
        #expect(!before.contains { $0.hasPrefix("record \(customers[5].id)") })
        try store.compact()
        #expect(store.journalSize == 0)
        #expect(try answers(store, customers: all) == before)
        // The customer views come in id order, from the snapshot alone now.
        var names: [String] = []
        try store.forEachCustomerView { view, _ in names.append(try RecordView(jsonBytes: view).id) }
        #expect(names == names.sorted())
        #expect(names.count == 14)
    }

    /// `activities.by-customer.idx` is derived data: a damaged line is left out by the next
    /// compaction (its activity is no longer found by customer), and every other pair is kept.
    @Test func aDamagedByCustomerLineDoesNotStopCompaction() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let customers = (0..<3).map { Fixtures.customer("C\($0)") }
        let activities = customers.map { Fixtures.purchase(of: $0.id) }
        let path: String
        do {
            let first = try Fixtures.open(dir)
            defer { first.close() }
            try first.commit((customers + activities).map { .init(state: $0, pending: false) })
            try first.compact()
            path = try #require(first.generationDirectory) + "/" + ByCustomerIndex.fileName
        }
        // Damage the line of the first customer's activity (cut it short), then open the cache.
        var bytes = try #require(try POSIX.readFile(path))
        let damaged = try #require(customers.map(\.id).sorted().first)
        let line = try #require(bytes.firstRange(of: Array(damaged.utf8)))
        bytes.removeSubrange(line.lowerBound..<(line.lowerBound + 5))
        try POSIX.writeAtomically(bytes, to: path)
        let store = try Fixtures.open(dir)
        defer { store.close() }

        // A compaction that rewrites the index (an activity was added) leaves the damaged line out.
        let newcomer = Fixtures.customer("New")
        try store.commit([.init(state: newcomer, pending: false), .init(state: Fixtures.purchase(of: newcomer.id), pending: false)])
        try store.compact()
        #expect(try store.activityIDs(ofCustomer: newcomer.id).count == 1)
        #expect(try store.activityIDs(ofCustomer: damaged) == [])
        for customer in customers where customer.id != damaged {
            #expect(try store.activityIDs(ofCustomer: customer.id) == activities.filter { $0.displayedValue("customer_id") == customer.id }.map(\.id))
        }
    }
}
