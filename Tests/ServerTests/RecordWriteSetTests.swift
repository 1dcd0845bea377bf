import CXModel
import CXPostgres
import Testing

@testable import CXServer

/// A push's writes sent the cheap way (``RecordWriteSet``: new records and changes in place by
/// COPY, moves by upsert) pinned to what the single upsert (``PushWrites``) writes for the same
/// mix: every column, every audit row with its record's final number, the exits, and the
/// order a pull delivers them in (an activity after the customer it arrived or moved with).
@Suite(.serverDatabase) struct RecordWriteSetTests {
    static let author = Author(replica: "laptop-a", user: "ana", at: Timestamp(millisecondsSinceEpoch: 1_795_000_000_000))
    static let later = Author(replica: "laptop-a", user: "ana", at: Timestamp(millisecondsSinceEpoch: 1_796_000_000_000), counterFloor: 50)

    /// What the server holds before the push, and the push: `(previous, merged)` pairs, `nil`
    /// previous for records new to the server.
    static func scenario() throws -> (stored: [RecordState], pushed: [(previous: RecordState?, merged: RecordState)]) {
        let north = try RecordState.new(kind: .customer, fields: ["name": "Acme", "territory": "north"], by: author)
        let south = try RecordState.new(kind: .customer, fields: ["name": "Globex", "territory": "south"], by: author)
        let arriving = try RecordState.new(kind: .customer, fields: ["name": "Initech", "territory": "east"], by: author)
        func activity(_ customer: RecordState, _ note: String) throws -> RecordState {
            try RecordState.new(kind: .activity, fields: ["customer_id": customer.id, "type": "touchpoint", "on": "2026-01-10", "channel": "visit", "note": note], by: author)
        }
        // Stored before the customer it names reached the server (pushed by another laptop).
        let early = try activity(arriving, "before its customer")
        let moving = try activity(north, "moves to Globex")
        let staying = try activity(south, "stays with Globex")
        let stored = [north, south, early, moving, staying]

        var northEdited = north
        try northEdited.set("notes", to: "edited in place", by: later)
        var southMoved = south
        try southMoved.set("territory", to: "west", by: later)
        var movingMoved = moving
        try movingMoved.set("customer_id", to: south.id, by: later)
        var stayingEdited = staying
        try stayingEdited.set("note", to: "edited in place", by: later)
        let newActivity = try activity(arriving, "new with its customer")
        return (stored, [
            (nil, arriving), (north, northEdited), (south, southMoved), (moving, movingMoved), (staying, stayingEdited),
            (nil, newActivity),
        ])
    }

    static let writer = RecordStore.Writer(userID: nil, userName: "ana", replicaID: "laptop-a", scope: .unrestricted)

    /// Stores the scenario's records, then writes its push one way or the other; returns every
    /// row, audit row and exit, and the pull order's problems.
    @Sendable static func write(
        _ stored: [RecordState], _ pushed: [(previous: RecordState?, merged: RecordState)], cheaply: Bool, on connection: PostgresConnection
    ) throws -> (rows: [String], orderProblems: [String], staleAudit: [String]) {
        for table in ["cx.changes", "cx.territory_exits", "cx.activity_exits", "cx.activities", "cx.customers"] {
            try connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table)"))
        }
        try connection.transaction { connection in
            try RecordStore.takeSequenceLock(on: connection)
            var writes = PushWrites()
            for state in stored { writes.add(state, replacing: nil, by: writer) }
            try writes.apply(on: connection)
        }
        try connection.transaction { connection in
            try RecordStore.takeSequenceLock(on: connection)
            if cheaply && pushed.count > RecordWriteSet.pipelineChunk {
                try RecordWriteSet.write(pushed.map { .init(merged: $0.merged, previous: $0.previous, writer: writer) }, on: connection)
            } else if cheaply {
                var writes = RecordWriteSet(expecting: RecordWriteSet.copyThreshold)
                for (previous, merged) in pushed { writes.add(merged, replacing: previous, by: writer) }
                #expect(writes.count == pushed.count)
                try writes.apply(on: connection)
            } else {
                var writes = PushWrites()
                for (previous, merged) in pushed { writes.add(merged, replacing: previous, by: writer) }
                try writes.apply(on: connection)
            }
        }
        #expect(try SQLWriting.faithfulnessProblems(on: connection) == [])
        var rows = try ImportCopyTests.snapshot(on: connection)
        rows += try connection.query("SELECT customer_id::text || ' left ' || territory FROM cx.territory_exits ORDER BY 1").map { $0[0] ?? "nil" }
        rows += try connection.query("SELECT activity_id::text || ' left ' || territory FROM cx.activity_exits ORDER BY 1").map { $0[0] ?? "nil" }
        // A pull delivers by sequence number: an activity must come after the customer it
        // names whenever that customer was written in the push.
        let orderProblems = try connection.query(
            """
            SELECT a.id::text FROM cx.activities a JOIN cx.customers c ON c.id = a.customer_id
            WHERE a.seq < c.seq
            """
        ).map { "activity \($0[0] ?? "") comes before its customer" }
        // Each pushed record's audit row carries the record's final number (a stored activity
        // re-numbered because its customer arrived has no audit row of the push).
        let pushedIDs = "{" + pushed.map(\.merged.id).joined(separator: ",") + "}"
        let stale = try connection.query(
            """
            SELECT r.id::text FROM (SELECT id, seq FROM cx.customers UNION ALL SELECT id, seq FROM cx.activities) r
            WHERE r.id = ANY(\(pushedIDs)::uuid[]) AND r.seq <> (SELECT max(c.seq) FROM cx.changes c WHERE c.record_id = r.id)
            """
        ).map { "record \($0[0] ?? "")'s last audit row has another number" }
        return (rows, orderProblems, stale)
    }

    @Test func theCheapPathWritesWhatTheUpsertWrites() async throws {
        try await withTestDatabase { database in
            let (stored, pushed) = try Self.scenario()
            nonisolated(unsafe) let changes = pushed
            let (cheap, upsert) = try await database.sql { connection in
                (try Self.write(stored, changes, cheaply: true, on: connection), try Self.write(stored, changes, cheaply: false, on: connection))
            }
            #expect(cheap.rows == upsert.rows)
            #expect(cheap.orderProblems == [])
            #expect(upsert.orderProblems == [])
            #expect(cheap.staleAudit == [] && upsert.staleAudit == [])
            // 5 records stored, 2 new; 5 + 6 audit rows; one exit of each kind.
            #expect(cheap.rows.count == 7 + 11 + 2)
            #expect(cheap.rows.contains { $0.hasSuffix(" left south") })
            #expect(cheap.rows.contains { $0.hasSuffix(" left north") })
        }
    }

    /// A large push: customers, then activities, as a push orders them, of every kind of write,
    /// written in sets encoded one while the one before is sent.
    static func largeScenario() throws -> (stored: [RecordState], pushed: [(previous: RecordState?, merged: RecordState)]) {
        func customer(_ index: Int, _ territory: String) throws -> RecordState {
            try RecordState.new(kind: .customer, fields: ["name": "Customer \(index)", "territory": territory], by: author)
        }
        func activity(_ customer: RecordState, _ note: String) throws -> RecordState {
            try RecordState.new(kind: .activity, fields: ["customer_id": customer.id, "type": "touchpoint", "on": "2026-01-10", "channel": "visit", "note": note], by: author)
        }
        let storedCustomers = try (0..<200).map { try customer($0, $0 % 2 == 0 ? "north" : "south") }
        let storedActivities = try storedCustomers.map { try activity($0, "stored") }
        let newCustomers = try (200..<350).map { try customer($0, "east") }
        var customers: [(previous: RecordState?, merged: RecordState)] = newCustomers.map { (nil, $0) }
        for (index, stored) in storedCustomers.prefix(150).enumerated() {
            var edited = stored
            if index < 100 {
                try edited.set("notes", to: "edited \(index)", by: later)
            } else {
                try edited.set("territory", to: "west", by: later)
            }
            customers.append((stored, edited))
        }
        var activities: [(previous: RecordState?, merged: RecordState)] = try newCustomers.map { (nil, try activity($0, "new")) }
        for (index, stored) in storedActivities.suffix(100).enumerated() {
            var edited = stored
            if index < 50 {
                try edited.set("customer_id", to: storedCustomers[index].id, by: later)
            } else {
                try edited.set("note", to: "edited \(index)", by: later)
            }
            activities.append((stored, edited))
        }
        return (storedCustomers + storedActivities, customers + activities)
    }

    @Test func aLargeWriteInSetsWritesWhatTheUpsertWrites() async throws {
        try await withTestDatabase { database in
            let (stored, pushed) = try Self.largeScenario()
            #expect(pushed.count > 2 * RecordWriteSet.pipelineChunk)
            nonisolated(unsafe) let changes = pushed
            let (cheap, upsert) = try await database.sql { connection in
                (try Self.write(stored, changes, cheaply: true, on: connection), try Self.write(stored, changes, cheaply: false, on: connection))
            }
            #expect(cheap.rows.count == upsert.rows.count)
            #expect(cheap.rows == upsert.rows)
            // Activities of customers edited in place keep their older numbers, by either path;
            // those of customers that arrived or moved come after them.
            #expect(Set(cheap.orderProblems) == Set(upsert.orderProblems))
            #expect(cheap.orderProblems.count == 100, "the stored activities of the 100 customers edited in place")
            #expect(cheap.staleAudit == [] && upsert.staleAudit == [])
            #expect(cheap.rows.filter { $0.hasSuffix(" left south") }.count == 25, "the moved customers' exits")
        }
    }
}
