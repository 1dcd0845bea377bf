import CXModel
import CXPostgres
import Foundation
import Testing

@testable import CXServer

/// Group commit (``PushCoalescer``): pushes waiting at the same time share one transaction, and
/// each still gets exactly the reply it would have had alone; a push that fails does not fail
/// the others.
///
/// To make a group deterministic, a test holds the sequence lock from a session of its own:
/// the first push then waits for it inside its own transaction, the others queue behind it,
/// and once the lock is released they are committed together.
@Suite(.serverDatabase) struct GroupCommitTests {
    /// A rep's writer, as the sync endpoint builds it.
    static func rep(_ name: String, territories: Set<String>, replica: String, in database: TestDatabase) async throws -> RecordStore.Writer {
        _ = try await database.user(name, territories: territories.sorted())
        let id = try await database.sql { connection in
            try connection.query("SELECT id FROM cx.users WHERE name = \(name)")[0].decode("id", as: Int64.self)
        }
        return RecordStore.Writer(
            userID: id, userName: name, replicaID: replica,
            scope: AccessScope(role: .rep, territories: territories, handoffTerritories: []))
    }

    /// Runs `pushes` through `coalescer` while the sequence lock is held elsewhere, so that all
    /// but the first queue up, in the order given, and share the next transaction; returns each
    /// push's result.
    static func grouped(
        _ pushes: [@Sendable (PushCoalescer) async throws -> RecordStore.PushOutcome],
        through coalescer: PushCoalescer, database: TestDatabase
    ) async throws -> [Result<RecordStore.PushOutcome, any Error>] {
        let locked = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let holder = Task {
            try await database.sql { connection in
                try connection.query("SELECT pg_advisory_lock(\(RecordStore.sequenceLockKey))")
                locked.signal()
                release.wait()
                try connection.query("SELECT pg_advisory_unlock(\(RecordStore.sequenceLockKey))")
            }
        }
        // Never leave the holder blocked (and its connection taken) if the test fails early.
        defer { release.signal() }
        try await blocking { locked.wait() }
        var tasks: [Task<RecordStore.PushOutcome, any Error>] = []
        // The first push starts the drain and waits for the lock in a transaction of its own.
        tasks.append(Task { try await pushes[0](coalescer) })
        let deadline = ContinuousClock.now + .seconds(30)
        while try await database.sql({ connection in
            try connection.query(
                """
                SELECT count(*) AS n FROM pg_locks
                WHERE locktype = 'advisory' AND NOT granted
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """)[0].decode("n", as: Int.self)
        }) == 0 {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(10))
        }
        // One at a time: tasks start in no guaranteed order, and the order is what a group keeps.
        for (position, push) in pushes.dropFirst().enumerated() {
            tasks.append(Task { try await push(coalescer) })
            try await waitUntil { coalescer.statistics.waiting == position + 1 }
        }
        release.signal()
        try await holder.value
        var results: [Result<RecordStore.PushOutcome, any Error>] = []
        for task in tasks {
            results.append(await task.result)
        }
        return results
    }

    /// Polls `condition` every 10 ms for up to 30 s.
    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func concurrentPushesOfDifferentUsersShareACommitAndEachGetsItsOwnReply() async throws {
        try await withTestDatabase(poolSize: 6) { database in
            let store = RecordStore(pool: database.pool)
            let coalescer = PushCoalescer(store: store)
            let alice = try await Self.rep("alice", territories: ["north"], replica: "alice-laptop", in: database)
            let bob = try await Self.rep("bob", territories: ["south"], replica: "bob-laptop", in: database)
            let first = try Records.customer("First", replica: "server")
            let aliceOwn = try Records.customer("Alice's", territory: "north", replica: "alice-laptop")
            let aliceForeign = try Records.customer("Not Alice's", territory: "south", replica: "alice-laptop")
            let bobOwn = try Records.customer("Bob's", territory: "south", replica: "bob-laptop")
            // Bob also edits alice's customer: refused (not his territory), however it is grouped.
            let bobEdit = try {
                var edit = aliceOwn
                try edit.set("phone", to: "555-0100", by: Records.author("bob-laptop", minute: 1))
                return edit
            }()
            // A second push of alice's, after her first: it sees her first push's write.
            var aliceEdit = aliceOwn
            try aliceEdit.set("phone", to: "555-0199", by: Records.author("alice-laptop", minute: 2))

            let results = try await Self.grouped(
                [
                    { try await $0.push([first], as: .system(), claim: nil, logger: TestDatabase.logger) },
                    {
                        try await $0.push(
                            [aliceOwn, aliceForeign], as: alice, claim: .init(replicaID: "alice-laptop", token: nil, nextToken: "a1"),
                            logger: TestDatabase.logger)
                    },
                    {
                        try await $0.push(
                            [bobOwn, bobEdit], as: bob, claim: .init(replicaID: "bob-laptop", token: nil, nextToken: "b1"),
                            logger: TestDatabase.logger)
                    },
                ], through: coalescer, database: database)
            // Alice's edit in a second round, with her next token.
            let edit = try await coalescer.push(
                [aliceEdit], as: alice, claim: .init(replicaID: "alice-laptop", token: "a1", nextToken: "a2"), logger: TestDatabase.logger)

            #expect(try results[0].get().written == 1)
            let aliceOutcome = try results[1].get()
            #expect(aliceOutcome.written == 1)
            #expect(aliceOutcome.rejected.map(\.id) == [aliceForeign.id])
            #expect(aliceOutcome.rejected.map(\.code) == [.territoryNotHeld])
            let bobOutcome = try results[2].get()
            #expect(bobOutcome.written == 1)
            #expect(bobOutcome.rejected.map(\.id) == [aliceOwn.id])
            #expect(edit.written == 1 && edit.rejected.isEmpty)
            #expect(coalescer.statistics.sharedCommits == 1)
            #expect(coalescer.statistics.sharedPushes == 2)
            #expect(coalescer.statistics.failedShares == 0)

            let page = try await store.pull(after: 0, limit: 100)
            let states = try page.states.map { try RecordState(jsonString: $0) }
            #expect(Set(states.map(\.id)) == [first.id, aliceOwn.id, bobOwn.id])
            #expect(states.first { $0.id == aliceOwn.id }?.displayedValue("phone") == "555-0199")
            // Each write is audited under its own pusher, though they shared a transaction.
            let audited = try await database.sql { connection in
                try connection.query("SELECT record_id::text AS id, user_name FROM cx.changes ORDER BY seq").map {
                    "\(try $0.decode("id", as: String.self)) \(try $0.decode("user_name", as: String.self))"
                }
            }
            #expect(audited.contains("\(aliceOwn.id) alice") && audited.contains("\(bobOwn.id) bob"))
            #expect(!audited.contains("\(aliceOwn.id) bob"))
        }
    }

    @Test func aForkedReplicaIsRefusedAloneAndTheOthersShareTheCommit() async throws {
        try await withTestDatabase(poolSize: 6) { database in
            let store = RecordStore(pool: database.pool)
            let coalescer = PushCoalescer(store: store)
            let alice = try await Self.rep("alice", territories: ["north"], replica: "laptop", in: database)
            let bob = try await Self.rep("bob", territories: ["north"], replica: "bob-laptop", in: database)
            // Alice's replica has synced with token t2; a copy of her cache still holds t1.
            _ = try await store.push([], as: alice, claim: .init(replicaID: "laptop", token: nil, nextToken: "t1"), logger: TestDatabase.logger)
            _ = try await store.push([], as: alice, claim: .init(replicaID: "laptop", token: "t1", nextToken: "t2"), logger: TestDatabase.logger)
            let copied = try Records.customer("From the copy", replica: "laptop")
            let bobs = try Records.customer("Bob's", replica: "bob-laptop")
            let second = try Records.customer("Second", replica: "server")
            let results = try await Self.grouped(
                [
                    { try await $0.push([try Records.customer("First", replica: "server")], as: .system(), claim: nil, logger: TestDatabase.logger) },
                    { try await $0.push([copied], as: alice, claim: .init(replicaID: "laptop", token: "t1", nextToken: "t9"), logger: TestDatabase.logger) },
                    { try await $0.push([bobs], as: bob, claim: .init(replicaID: "bob-laptop", token: nil, nextToken: "b1"), logger: TestDatabase.logger) },
                    { try await $0.push([second], as: .system(), claim: nil, logger: TestDatabase.logger) },
                ], through: coalescer, database: database)
            #expect(try results[0].get().written == 1)
            #expect(throws: APIError.self) { try results[1].get() }
            if case .failure(let error as APIError) = results[1] { #expect(error.code == "replica_forked") }
            #expect(try results[2].get().written == 1)
            #expect(try results[3].get().written == 1)
            #expect(coalescer.statistics.sharedCommits == 1)
            #expect(coalescer.statistics.failedShares == 0)
            let ids = try await store.pull(after: 0, limit: 100).states.map { try RecordState(jsonString: $0).id }
            #expect(!ids.contains(copied.id))
            #expect(ids.contains(bobs.id) && ids.contains(second.id))
            // Bob's token was stored: his next request continues the chain.
            _ = try await coalescer.push(
                [try Records.customer("Bob's next", replica: "bob-laptop")], as: bob,
                claim: .init(replicaID: "bob-laptop", token: "b1", nextToken: "b2"), logger: TestDatabase.logger)
        }
    }

    /// Admission is decided for a whole group in three statements; claims on one replica within
    /// it are decided in arrival order, each seeing the token the one before stored.
    @Test func claimsOnOneReplicaInOneGroupAreAdmittedInArrivalOrder() async throws {
        try await withTestDatabase(poolSize: 6) { database in
            let store = RecordStore(pool: database.pool)
            let coalescer = PushCoalescer(store: store)
            let alice = try await Self.rep("alice", territories: ["north"], replica: "laptop", in: database)
            let mallory = try await Self.rep("mallory", territories: ["north"], replica: "laptop", in: database)
            let first = try Records.customer("First", replica: "laptop")
            let second = try Records.customer("Second", replica: "laptop")
            let retried = try Records.customer("Retried", replica: "laptop")
            let stale = try Records.customer("Stale", replica: "laptop")
            let foreign = try Records.customer("Foreign", replica: "laptop")
            @Sendable func claim(_ token: String?, _ next: String) -> ReplicaRegistry.Claim { .init(replicaID: "laptop", token: token, nextToken: next) }
            let results = try await Self.grouped(
                [
                    { try await $0.push([try Records.customer("Lock", replica: "server")], as: .system(), claim: nil, logger: TestDatabase.logger) },
                    // New replica: registered to alice with t1.
                    { try await $0.push([first], as: alice, claim: claim(nil, "t1"), logger: TestDatabase.logger) },
                    // Her next request sees t1 (stored by the one before, in the same transaction).
                    { try await $0.push([second], as: alice, claim: claim("t1", "t2"), logger: TestDatabase.logger) },
                    // The retry of that request (its reply lost): t2 is already stored, admitted.
                    { try await $0.push([retried], as: alice, claim: claim("t1", "t2"), logger: TestDatabase.logger) },
                    // A copy still on t1 proposing another token: forked.
                    { try await $0.push([stale], as: alice, claim: claim("t1", "t9"), logger: TestDatabase.logger) },
                    // Another user's request on alice's replica: forked.
                    { try await $0.push([foreign], as: mallory, claim: claim("t2", "t3"), logger: TestDatabase.logger) },
                ], through: coalescer, database: database)
            for index in 0...3 { #expect(try results[index].get().written == 1) }
            for index in 4...5 {
                if case .failure(let error as APIError) = results[index] {
                    #expect(error.code == "replica_forked")
                } else {
                    Issue.record("request \(index) was admitted")
                }
            }
            #expect(coalescer.statistics.sharedCommits == 1)
            let ids = Set(try await store.pull(after: 0, limit: 100).states.map { try RecordState(jsonString: $0).id })
            #expect(ids.isSuperset(of: [first.id, second.id, retried.id]) && ids.isDisjoint(with: [stale.id, foreign.id]))
            let row = try await database.sql { connection in
                try connection.query("SELECT u.name, r.sync_token FROM cx.replicas r JOIN cx.users u ON u.id = r.user_id WHERE replica_id = 'laptop'")
                    .map { "\(try $0.decode("name", as: String.self)) \(try $0.decode("sync_token", as: String.self))" }
            }
            #expect(row == ["alice t2"])
        }
    }

    /// Writes of a group go out together while its members touch different records; a member
    /// that touches a record an earlier one wrote (or a customer its activity names) decides on
    /// that write, as if the earlier one had committed first, and echoes never hide it.
    @Test func laterMembersDecideOnEarlierMembersWritesAndEchoesHideNoneOfThem() async throws {
        try await withTestDatabase(poolSize: 6) { database in
            let store = RecordStore(pool: database.pool)
            let coalescer = PushCoalescer(store: store)
            let alice = try await Self.rep("alice", territories: ["north"], replica: "alice-laptop", in: database)
            let bob = try await Self.rep("bob", territories: ["north"], replica: "bob-laptop", in: database)
            let carol = try await Self.rep("carol", territories: ["north"], replica: "carol-laptop", in: database)
            let dave = try await Self.rep("dave", territories: ["north", "south"], replica: "dave-laptop", in: database)
            let erin = try await Self.rep("erin", territories: ["north"], replica: "erin-laptop", in: database)
            let frank = try await Self.rep("frank", territories: ["east"], replica: "frank-laptop", in: database)
            let acme = try Records.customer("Acme", territory: "north", replica: "alice-laptop")
            let mover = try Records.customer("Mover", territory: "north", replica: "alice-laptop")
            let acmeByBob = try {
                var edit = acme
                try edit.set("phone", to: "555-0101", by: Records.author("bob-laptop", minute: 1))
                return edit
            }()
            // Carol names Acme by its id in capitals: still the same customer.
            let carolsPurchase = try Records.purchase(customer: acme.id.uppercased(), replica: "carol-laptop")
            let moved = try {
                var edit = mover
                try edit.set("territory", to: "south", by: Records.author("dave-laptop", minute: 1))
                return edit
            }()
            let erinsPurchase = try Records.purchase(customer: mover.id, replica: "erin-laptop")
            let franks = try Records.customer("Frank's", territory: "east", replica: "frank-laptop")
            let results = try await Self.grouped(
                [
                    { try await $0.push([try Records.customer("Lock", replica: "server")], as: .system(), claim: nil, logger: TestDatabase.logger) },
                    { try await $0.push([acme, mover], as: alice, claim: nil, logger: TestDatabase.logger) },
                    { try await $0.push([acmeByBob], as: bob, claim: nil, logger: TestDatabase.logger) },
                    { try await $0.push([carolsPurchase], as: carol, claim: nil, logger: TestDatabase.logger) },
                    { try await $0.push([moved], as: dave, claim: nil, logger: TestDatabase.logger) },
                    { try await $0.push([erinsPurchase], as: erin, claim: nil, logger: TestDatabase.logger) },
                    { try await $0.push([franks], as: frank, claim: nil, logger: TestDatabase.logger) },
                ], through: coalescer, database: database)
            #expect(coalescer.statistics.sharedCommits == 1 && coalescer.statistics.sharedPushes == 6)
            let aliceOutcome = try results[1].get()
            #expect(aliceOutcome.written == 2 && Set(aliceOutcome.echoes?.ids ?? []) == [acme.id, mover.id])
            // Bob's edit merged over alice's write of the same transaction.
            #expect(try results[2].get().written == 1)
            // Carol's purchase judged by Acme as written just before: in her territory.
            let carolOutcome = try results[3].get()
            #expect(carolOutcome.written == 1 && carolOutcome.rejected.isEmpty)
            #expect(try results[4].get().written == 1)
            // Erin's purchase judged by Mover as dave left it: it has just left her territory, so
            // her edit is taken as a hand-off and her laptop told to let go of it.
            let erinOutcome = try results[5].get()
            #expect(erinOutcome.written == 1 && erinOutcome.outOfScope == [erinsPurchase.id])
            let frankOutcome = try results[6].get()
            #expect(frankOutcome.written == 1 && frankOutcome.echoes?.ids == [franks.id])

            // Alice's next pull leaves out only what is still as she sent it: Acme changed
            // (bob) and Mover moved away (dave) after her write in the same transaction.
            let alicePage = try await store.pull(after: 0, limit: 100, scope: alice.scope, omitting: aliceOutcome.echoes)
            let aliceStates = try alicePage.states.map { try RecordState(jsonString: $0) }
            #expect(aliceStates.first { $0.id == acme.id }?.displayedValue("phone") == "555-0101")
            #expect(aliceStates.contains { $0.id == carolsPurchase.id })
            #expect(alicePage.removed.contains(mover.id) || !aliceStates.contains { $0.id == mover.id })
            let frankPage = try await store.pull(after: 0, limit: 100, scope: frank.scope, omitting: frankOutcome.echoes)
            #expect(frankPage.states.isEmpty && frankPage.echoes == 1)
            // Every write audited under its own pusher.
            let audited = try await database.sql { connection in
                try connection.query("SELECT record_id::text AS id, user_name FROM cx.changes ORDER BY seq").map {
                    "\(try $0.decode("id", as: String.self)) \(try $0.decode("user_name", as: String.self))"
                }
            }
            #expect(audited.filter { $0.hasPrefix(acme.id) } == ["\(acme.id) alice", "\(acme.id) bob"])
            #expect(audited.contains("\(carolsPurchase.id) carol") && audited.contains("\(mover.id) dave"))
            #expect(audited.contains("\(erinsPurchase.id) erin"))
        }
    }

    @Test func aMemberThatBreaksTheSharedTransactionFailsAloneAndTheOthersAreRetried() async throws {
        try await withTestDatabase(poolSize: 6) { database in
            let store = RecordStore(pool: database.pool)
            let coalescer = PushCoalescer(store: store)
            // A database rule that refuses one customer's row (as a constraint would).
            try await database.sql { connection in
                try connection.executeScript(
                    """
                    CREATE FUNCTION cx.test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF NEW.name = 'Explodes' THEN RAISE EXCEPTION 'refused by the test'; END IF;
                        RETURN NEW;
                    END $$;
                    CREATE TRIGGER test_refuse BEFORE INSERT OR UPDATE ON cx.customers
                        FOR EACH ROW EXECUTE FUNCTION cx.test_refuse();
                    """)
            }
            let fine1 = try Records.customer("Fine 1", replica: "laptop-1")
            let bad = try Records.customer("Explodes", replica: "laptop-2")
            let fine2 = try Records.customer("Fine 2", replica: "laptop-3")
            let results = try await Self.grouped(
                [
                    { try await $0.push([try Records.customer("First", replica: "server")], as: .system(), claim: nil, logger: TestDatabase.logger) },
                    { try await $0.push([fine1], as: .system(replica: "laptop-1"), claim: nil, logger: TestDatabase.logger) },
                    { try await $0.push([bad], as: .system(replica: "laptop-2"), claim: nil, logger: TestDatabase.logger) },
                    { try await $0.push([fine2], as: .system(replica: "laptop-3"), claim: nil, logger: TestDatabase.logger) },
                ], through: coalescer, database: database)
            #expect(try results[0].get().written == 1)
            #expect(try results[1].get().written == 1)
            #expect(throws: PostgresError.self) { try results[2].get() }
            #expect(try results[3].get().written == 1)
            #expect(coalescer.statistics.failedShares == 1)
            #expect(coalescer.statistics.sharedCommits == 0)
            let ids = try await store.pull(after: 0, limit: 100).states.map { try RecordState(jsonString: $0).id }
            #expect(Set(ids).isSuperset(of: [fine1.id, fine2.id]) && !ids.contains(bad.id))
        }
    }

    /// Pushes of a few records (written by upsert) and of many (by COPY, ``RecordWriteSet``).
    @Test(arguments: [3, RecordWriteSet.copyThreshold])
    func groupedWritersNeverLetACursorSkip(batchSize: Int) async throws {
        try await withTestDatabase(poolSize: 6) { database in
            let store = RecordStore(pool: database.pool)
            let coalescer = PushCoalescer(store: store, maxMembers: 4)
            let customers = try (0..<(40 * batchSize)).map { try Records.customer("C\($0)") }
            var seen: Set<String> = []
            var cursor: Int64 = 0
            try await withThrowingTaskGroup(of: Void.self) { group in
                for chunk in stride(from: 0, to: customers.count, by: batchSize) {
                    let batch = Array(customers[chunk..<chunk + batchSize])
                    group.addTask { _ = try await coalescer.push(batch, as: .system(), claim: nil, logger: TestDatabase.logger) }
                }
                // Pull continuously while the groups commit.
                for _ in 0..<60 {
                    let page = try await store.pull(after: cursor, limit: 7 * batchSize / 3)
                    for state in page.states { seen.insert(try RecordState(jsonString: state).id) }
                    cursor = page.lastSequence
                }
                try await group.waitForAll()
            }
            while true {
                let page = try await store.pull(after: cursor, limit: 7)
                for state in page.states { seen.insert(try RecordState(jsonString: state).id) }
                cursor = page.lastSequence
                if !page.hasMore { break }
            }
            #expect(seen == Set(customers.map(\.id)))
        }
    }
}
