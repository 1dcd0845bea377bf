import CXModel
import CXPostgres
import Foundation
import Testing

@testable import CXServer

/// The import's bulk path (``NewRecordWrites``: COPY of new rows and their audit rows, chunks
/// built on another thread) pinned to what the push path writes, and to the guarantees a
/// client relies on: every row pulled once in sequence order, no cursor passing a change that
/// commits later, re-runs updating instead of duplicating.
@Suite(.serverDatabase) struct ImportCopyTests {
    /// Values COPY's text format must escape (tab, newline, carriage return, backslash), the
    /// NULL marker as text, quotes, braces and commas for the tags array, and non-ASCII text.
    static let awkward = "tab\there, line\nbreak, cr\rhere, back\\slash, \\N, \"quoted\", {braces}, a,b, Grüße 東京"

    static func states() throws -> [RecordState] {
        let author = Author(replica: "import:tester", user: "import:tester", at: Timestamp(millisecondsSinceEpoch: 1_795_000_000_000))
        let customer = try RecordState.new(
            kind: .customer,
            fields: ["name": "Acme", "territory": "north", "email": "info@acme.example", "reference": "C-1", "notes": awkward, "extra.colour": awkward],
            tags: ["key account", "a,b", "quote\"d", "NULL", "back\\slash {x}"], by: author)
        let plain = try RecordState.new(kind: .customer, fields: ["name": "Globex", "reference": "C-2"], by: author)
        let purchase = try RecordState.new(
            kind: .activity,
            fields: [
                "customer_id": customer.id, "type": "purchase", "on": "2026-01-10", "amount": "1200.5", "margin": "0.12",
                "due_on": "2026-02-09", "reference": "INV-1", "note": awkward, "channel": "other", "extra.po": "PO\t7",
            ],
            by: author)
        let touchpoint = try RecordState.new(
            kind: .activity, fields: ["customer_id": plain.id, "type": "touchpoint", "on": "2026-01-11", "nps": "9", "channel": "visit"], by: author)
        return [customer, plain, purchase, touchpoint]
    }

    /// Empties the record and audit tables, then runs `write` in a transaction holding the
    /// sequence lock, as every writer does.
    static func rewrite(on connection: PostgresConnection, _ write: (PostgresConnection) throws -> Void) throws {
        for table in ["cx.changes", "cx.activities", "cx.customers"] {
            try connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table)"))
        }
        try connection.transaction { connection in
            try RecordStore.takeSequenceLock(on: connection)
            try write(connection)
        }
    }

    /// Every stored row and audit row, without what only differs by when or in which order
    /// they were written (seq, times, audit ids); and whether each audit row carries its
    /// record's sequence number.
    static func snapshot(on connection: PostgresConnection) throws -> [String] {
        var lines: [String] = []
        for table in ["cx.customers", "cx.activities"] {
            lines += try connection.query(
                PostgresQuery(unsafeSQL: "SELECT (to_jsonb(t) - ARRAY['seq', 'created_at', 'updated_at'])::text FROM \(table) t ORDER BY id")
            ).map { $0[0] ?? "nil" }
        }
        lines += try connection.query(
            """
            SELECT (to_jsonb(c) - ARRAY['id', 'seq', 'changed_at'])::text || ' same seq: ' ||
                   (c.seq = coalesce((SELECT seq FROM cx.customers WHERE id = c.record_id), (SELECT seq FROM cx.activities WHERE id = c.record_id)))::text
            FROM cx.changes c ORDER BY record_id
            """
        ).map { $0[0] ?? "nil" }
        return lines
    }

    @Test func copiedRowsAndAuditRowsAreWhatThePushPathWrites() async throws {
        try await withTestDatabase { database in
            let states = try Self.states()
            let writer = RecordStore.Writer(userID: nil, userName: "import:tester", replicaID: "import:tester", scope: .unrestricted)
            let (copied, pushed) = try await database.sql { connection in
                try connection.transaction { connection in
                    try RecordStore.takeSequenceLock(on: connection)
                    var inserts = NewRecordWrites()
                    for state in states { inserts.add(state, by: writer) }
                    try inserts.apply(on: connection)
                }
                let copied = try Self.snapshot(on: connection)
                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])
                // Sequence numbers in row order, one per record, none reused.
                let seqs = try connection.query(
                    "SELECT seq::text FROM (SELECT seq FROM cx.customers UNION ALL SELECT seq FROM cx.activities) s ORDER BY seq"
                ).map { Int64($0[0] ?? "") ?? -1 }
                #expect(Set(seqs).count == states.count)
                let stored = try states.map { state in
                    try connection.query(PostgresQuery(unsafeSQL: "SELECT seq::text FROM \(RecordStore.table(of: state.kind)) WHERE id = $1::uuid", binds: [state.id]))[0][0]
                }
                #expect(stored.map { Int64($0 ?? "") ?? -1 } == seqs, "numbered in the order the records were added")

                // The same states written by the push path's upsert instead.
                try Self.rewrite(on: connection) { connection in
                    var writes = PushWrites()
                    for state in states { writes.add(state, replacing: nil, by: writer) }
                    try writes.apply(on: connection)
                }
                let pushed = try Self.snapshot(on: connection)

                // And by COPY with every row encoded ahead, as a grouped push sends them.
                try Self.rewrite(on: connection) { connection in
                    var inserts = NewRecordWrites()
                    for state in states { inserts.add(state, by: writer, encoded: NewRecordWrites.encode(state, by: writer)) }
                    try inserts.apply(on: connection)
                }
                #expect(try Self.snapshot(on: connection) == copied)
                return (copied, pushed)
            }
            #expect(copied.count == 8)
            #expect(copied == pushed)
            #expect(copied.allSatisfy { !$0.contains("same seq") || $0.hasSuffix("same seq: true") })
        }
    }

    /// Changes in place (``ChangedRecordWrites``: COPY into a staging table, one `UPDATE … FROM`)
    /// write what the push path's upsert writes for the same changes: every column, the audit
    /// rows, each with its record's new sequence number.
    @Test func changesCopiedInPlaceAreWhatThePushPathWrites() async throws {
        try await withTestDatabase { database in
            let states = try Self.states()
            let author = Author(replica: "import:tester", user: "import:tester", at: Timestamp(millisecondsSinceEpoch: 1_796_000_000_000), counterFloor: 10)
            var pairs: [(previous: RecordState, merged: RecordState)] = []
            for state in states {
                var merged = state
                if state.kind == .customer {
                    try merged.set("notes", to: "paid in full: " + Self.awkward, by: author)
                    try merged.addTag("paying", by: author)
                } else if state.displayedValue("type") == "purchase" {
                    try merged.set("paid_on", to: "2026-02-01", by: author)
                } else {
                    try merged.set("nps", to: nil, by: author)
                }
                #expect(ChangedRecordWrites.takes(merged, replacing: state))
                pairs.append((state, merged))
            }
            let changed = pairs
            let writer = RecordStore.Writer(userID: nil, userName: "import:tester", replicaID: "import:tester", scope: .unrestricted)
            @Sendable func write(copying: Bool, on connection: PostgresConnection) throws -> [String] {
                try Self.rewrite(on: connection) { connection in
                    var inserts = NewRecordWrites()
                    for state in states { inserts.add(state, by: writer) }
                    try inserts.apply(on: connection)
                }
                try connection.transaction { connection in
                    try RecordStore.takeSequenceLock(on: connection)
                    if copying {
                        // Two batches in one transaction, as an import's chunks: the staging
                        // table is reused.
                        for half in [changed.prefix(2), changed.dropFirst(2)] {
                            var changes = ChangedRecordWrites()
                            for (previous, merged) in half { changes.add(merged, replacing: previous, by: writer) }
                            try changes.apply(on: connection)
                        }
                    } else {
                        var writes = PushWrites()
                        for (previous, merged) in changed { writes.add(merged, replacing: previous, by: writer) }
                        try writes.apply(on: connection)
                    }
                }
                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])
                let fresh = try connection.query(
                    """
                    SELECT count(*)::text FROM cx.changes c
                    WHERE c.operation = 'update'
                      AND c.seq = coalesce((SELECT seq FROM cx.customers WHERE id = c.record_id), (SELECT seq FROM cx.activities WHERE id = c.record_id))
                    """)[0][0]
                #expect(fresh == String(states.count), "every update's audit row carries its record's new number")
                return try Self.snapshot(on: connection)
            }
            let (copied, pushed) = try await database.sql { connection in
                (try write(copying: true, on: connection), try write(copying: false, on: connection))
            }
            #expect(copied.count == 12)
            #expect(copied == pushed)
            #expect(copied.contains { $0.contains("2026-02-01") })
        }
    }

    static let customers = "ref,name,territory\nC-1,Acme,north\nC-2,Globex,south\nC-3,Initech,east\n"

    static func activities(_ count: Int, amount: (Int) -> String = { "\(100 + $0).50" }) -> String {
        var csv = "ref,customer_ref,type,on,amount,margin,note\n"
        for i in 0..<count {
            csv += "INV-\(i),C-\(1 + i % 3),purchase,2026-01-\(String(format: "%02d", 1 + i % 28)),\(amount(i)),0.2,\"line \(i)\ttab\\slash\"\n"
        }
        return csv
    }

    /// All states a client receives pulling from `cursor` in pages of `limit`, and the cursors.
    static func pullAll(_ store: RecordStore, after cursor: Int64, limit: Int = 5) async throws -> (states: [RecordState], cursors: [Int64]) {
        var cursor = cursor
        var states: [RecordState] = [], cursors: [Int64] = []
        while true {
            let page = try await store.pull(after: cursor, limit: limit)
            states += try page.states.map { try RecordState(jsonString: $0) }
            cursors.append(page.lastSequence)
            cursor = page.lastSequence
            if !page.hasMore { return (states, cursors) }
        }
    }

    @Test func aClientPullingAfterAnImportReceivesEveryRowOnceInOrder() async throws {
        try await withTestDatabase { database in
            let store = RecordStore(pool: database.pool)
            let summary = try await database.sql { connection in
                try ImportTests.load(Self.customers, as: .customers, chunkSize: 2, on: connection)
                return try ImportTests.load(Self.activities(23), as: .activities, chunkSize: 4, on: connection)
            }
            #expect(summary.created == 23)
            let (states, cursors) = try await Self.pullAll(store, after: 0)
            #expect(states.count == 26)
            #expect(Set(states.map(\.id)).count == 26, "every record once")
            #expect(Set(states.compactMap { $0.displayedValue("reference") }) == Set((0..<23).map { "INV-\($0)" } + ["C-1", "C-2", "C-3"]))
            #expect(zip(cursors, cursors.dropFirst()).allSatisfy { $0 < $1 || $1 == $0 && $0 == cursors.last }, "cursors only move forward")
            let note = states.first { $0.displayedValue("reference") == "INV-7" }?.displayedValue("note")
            #expect(note == "line 7\ttab\\slash")
            try await database.sql { connection in
                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])
                // One insert audit row per record, carrying the record's own sequence number.
                let audited = try connection.query(
                    """
                    SELECT count(*)::text FROM cx.changes c JOIN cx.activities a ON a.id = c.record_id AND a.seq = c.seq
                    WHERE c.operation = 'insert' AND c.replica_id = 'import:tester'
                    """)[0][0]
                #expect(audited == "23")
                #expect(try ImportTests.count("cx.changes", on: connection) == 26)
                // The replica's counter is the largest it minted (dots never reused on the next import).
                let counter = try connection.query("SELECT counter::text FROM cx.import_writers")[0][0]
                let largest = states.flatMap { $0.fields.flatMap { $0.entries.map(\.dot) } }.filter { $0.replica == "import:tester" }.map(\.counter).max()
                #expect(counter == largest.map { String($0) })
            }
        }
    }

    @Test func aPushDuringAnImportIsNotSkippedByACursorTakenMeanwhile() async throws {
        try await withTestDatabase(poolSize: 5) { database in
            let store = RecordStore(pool: database.pool)
            try await database.sql { try ImportTests.load(Self.customers, as: .customers, on: $0) }
            let before = try await Self.pullAll(store, after: 0).cursors.last ?? 0
            let midway = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let file = ImportFile.parse(Array(Self.activities(10).utf8), as: .activities).file

            // The import writes two chunks, then stalls before its commit…
            let importing = Task {
                try await database.sql { connection in
                    var run = ERPImport(file: file, writer: "tester")
                    run.chunkSize = 2
                    run.progress = { done in
                        if done == 4 {
                            midway.signal()
                            release.wait()
                        }
                    }
                    return try run.run(on: connection)
                }
            }
            try await blocking { midway.wait() }
            // …while a laptop pushes a new customer: it queues behind the import's sequence lock.
            let laptop = try Records.customer("Laptop Customer")
            let pushing = Task { try await store.push([laptop], logger: TestDatabase.logger) }
            var waiting = 0
            let deadline = ContinuousClock.now + .seconds(60)
            while waiting == 0 && ContinuousClock.now < deadline {
                waiting = try await database.sql { connection in
                    try connection.query(
                        """
                        SELECT count(*) AS n FROM pg_locks
                        WHERE locktype = 'advisory' AND NOT granted
                          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                        """)[0].decode("n", as: Int.self)
                }
                if waiting == 0 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(waiting == 1, "the push waits for the import's lock")
            // A client syncing now sees nothing new, and keeps its cursor.
            let between = try await store.pull(after: before, limit: 100)
            #expect(between.states.isEmpty)

            release.signal()
            #expect(try await importing.value.created == 10)
            _ = try await pushing.value
            let after = try await Self.pullAll(store, after: between.lastSequence)
            let references = after.states.compactMap { $0.displayedValue("reference") }
            #expect(Set(references) == Set((0..<10).map { "INV-\($0)" }))
            #expect(after.states.last?.id == laptop.id, "the push took its number after the import's")
            #expect(after.states.count == 11)
        }
    }

    @Test func aRerunAcrossChunksUpdatesInsteadOfDuplicating() async throws {
        try await withTestDatabase { database in
            try await database.sql { connection in
                try ImportTests.load(Self.customers, as: .customers, on: connection)
                let first = try ImportTests.load(Self.activities(9), as: .activities, chunkSize: 2, on: connection)
                #expect(first.created == 9)
                // An overlapping export: one amount changed, one row new; checked first without writing.
                var next = Self.activities(10) { $0 == 4 ? "999.00" : "\(100 + $0).50" }
                let dry = try ImportTests.load(next, as: .activities, dryRun: true, chunkSize: 3, on: connection)
                #expect(dry.created == 1 && dry.updated == 1 && dry.unchanged == 8)
                #expect(try ImportTests.count("cx.activities", on: connection) == 9)
                let again = try ImportTests.load(next, as: .activities, chunkSize: 3, on: connection)
                #expect(again.created == 1 && again.updated == 1 && again.unchanged == 8)
                #expect(try ImportTests.count("cx.activities", on: connection) == 10)
                let audit = try SQLWriting.rows("SELECT operation, count(*)::text AS n FROM cx.changes WHERE kind = 'activity' GROUP BY 1 ORDER BY 1", on: connection)
                #expect(audit.map { $0["n"] ?? nil } == ["10", "1"])
                let changed = try SQLWriting.state(try ImportTests.id(ofReference: "INV-4", in: "cx.activities", on: connection), on: connection)
                #expect(changed.displayedValue("amount") == "999.00")
                // Bad rows in a later chunk roll back the new rows of earlier ones.
                next += "INV-99,C-404,purchase,2026-02-01,5,0.1,x\n"
                let rejected = ImportTests.problems { try ImportTests.load(next.replacingOccurrences(of: "INV-", with: "NEW-"), as: .activities, chunkSize: 3, on: connection) }
                #expect(rejected.map(\.line) == [12])
                #expect(try ImportTests.count("cx.activities", on: connection) == 10)
                #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])
            }
        }
    }
}
