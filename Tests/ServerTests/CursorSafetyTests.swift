import CXModel
import CXPostgres
import Foundation
import Testing

@testable import CXServer

/// The pull cursor must never skip a change. Sequence numbers are taken under a transaction-
/// scoped lock held until commit, so a transaction that took a higher number cannot commit
/// before one holding a lower number; these tests drive two writers into exactly that race.
@Suite(.serverDatabase) struct CursorSafetyTests {
    @Test func aReaderBetweenTwoRacingCommitsStillReceivesBoth() async throws {
        try await withTestDatabase(poolSize: 4) { database in
            let store = RecordStore(pool: database.pool)
            let first = try Records.customer("First")
            let second = try Records.customer("Second")
            let firstInside = DispatchSemaphore(value: 0)
            let releaseFirst = DispatchSemaphore(value: 0)

            // Writer 1 takes its sequence number, then stalls before COMMIT.
            let writer1 = Task {
                try await store.push([first], logger: TestDatabase.logger) {
                    firstInside.signal()
                    releaseFirst.wait()
                }
            }
            try await blocking { firstInside.wait() }

            // Writer 2 starts after writer 1 took its number and would commit first if it could.
            let writer2 = Task { try await store.push([second], logger: TestDatabase.logger) }
            // Writer 2 waits for writer 1's commit before taking a sequence number (polled, with a
            // deadline, because the machine may be slow to get writer 2 there).
            var waiting = 0
            let deadline = ContinuousClock.now + .seconds(30)
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
            #expect(waiting == 1, "writer 2 queues behind writer 1's lock")

            // A client pulls in between: it must not see writer 2's change ahead of writer 1's.
            let between = try await store.pull(after: 0, limit: 100)
            #expect(between.states.isEmpty, "nothing is committed yet, so nothing may be visible")

            releaseFirst.signal()
            _ = try await writer1.value
            _ = try await writer2.value

            // The client continues from the cursor it got in between and receives both changes.
            let after = try await store.pull(after: between.lastSequence, limit: 100)
            let names = try after.states.map { try RecordState(jsonString: $0).displayedValue("name") }
            #expect(names == ["First", "Second"])
        }
    }

    @Test func manyConcurrentWritersNeverLetACursorSkip() async throws {
        try await withTestDatabase(poolSize: 6) { database in
            let store = RecordStore(pool: database.pool)
            let customers = try (0..<60).map { try Records.customer("C\($0)") }
            var seen: Set<String> = []
            var cursor: Int64 = 0
            try await withThrowingTaskGroup(of: Void.self) { group in
                for chunk in stride(from: 0, to: customers.count, by: 5) {
                    let batch = Array(customers[chunk..<chunk + 5])
                    group.addTask { _ = try await store.push(batch, logger: TestDatabase.logger) }
                }
                // Pull continuously while the writers race.
                for _ in 0..<40 {
                    let page = try await store.pull(after: cursor, limit: 7)
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

    @Test func concurrentPushesOfOneRecordLoseNoUpdate() async throws {
        try await withTestDatabase(poolSize: 6) { database in
            let store = RecordStore(pool: database.pool)
            let origin = try Records.customer("Acme")
            _ = try await store.push([origin], logger: TestDatabase.logger)
            let fields = ["phone", "email", "city", "country", "segment", "notes", "owner", "company", "address", "extra.a"]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, field) in fields.enumerated() {
                    var edited = origin
                    let value = field == "email" ? "x@example.com" : "value \(index)"
                    try edited.set(field, to: value, by: Records.author("laptop-\(index)", minute: Int64(index)))
                    group.addTask { _ = try await store.push([edited], logger: TestDatabase.logger) }
                }
                try await group.waitForAll()
            }
            let page = try await store.pull(after: 0, limit: 10)
            let final = try RecordState(jsonString: try #require(page.states.first))
            for field in fields {
                #expect(final.displayedValue(field) != nil, "\(field) was lost")
            }
            #expect(final.clock.entries.count == fields.count + 1)
        }
    }
}
