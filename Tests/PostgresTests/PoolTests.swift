import CXPostgres
import Foundation
import NIOConcurrencyHelpers
import Testing

extension PostgresTests {
    /// The pool's bound, reuse, broken-connection handling and shutdown.
    @Suite struct PoolTests {
        @Test func staysWithinBoundAndCompletesEveryCaller() async throws {
            let maxSeen = NIOLockedValueBox(PostgresPool.Statistics(open: 0, inUse: 0, waiting: 0))
            let start = ContinuousClock.now
            let results = try await withPool(maxConnections: 2) { pool in
                // Samples the counts while the work runs.
                let monitor = Task {
                    while !Task.isCancelled {
                        let now = pool.statistics
                        maxSeen.withLockedValue {
                            $0 = .init(open: max($0.open, now.open), inUse: max($0.inUse, now.inUse), waiting: max($0.waiting, now.waiting))
                        }
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                }
                defer { monitor.cancel() }
                return try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<10 {
                        group.addTask {
                            try await pool.withConnection { connection in
                                try connection.query("SELECT pg_sleep(0.2), \(index) AS i")[0].decode("i", as: Int.self)
                            }
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            let elapsed = ContinuousClock.now - start
            #expect(results.sorted() == Array(0..<10))
            let seen = maxSeen.withLockedValue { $0 }
            #expect(seen.open <= 2)
            #expect(seen.inUse <= 2)
            #expect(seen.waiting >= 1)
            // 10 sleeps of 0.2 s on 2 connections cannot finish in under 1 s.
            #expect(elapsed >= .milliseconds(950))
        }

        @Test func aWaiterMarkedFirstGoesAheadOfEarlierOnes() async throws {
            let order = try await withPool(maxConnections: 1) { pool in
                let order = NIOLockedValueBox<[String]>([])
                let release = DispatchSemaphore(value: 0)
                let busy = Task { try await pool.withConnection { _ in release.wait() } }
                func waitFor(_ count: Int) async throws {
                    while pool.statistics.waiting < count { try await Task.sleep(for: .milliseconds(5)) }
                }
                while pool.statistics.inUse < 1 { try await Task.sleep(for: .milliseconds(5)) }
                let plain = Task { try await pool.withConnection { _ in order.withLockedValue { $0.append("plain") } } }
                try await waitFor(1)
                let urgent = Task { try await pool.withConnection(first: true) { _ in order.withLockedValue { $0.append("first") } } }
                try await waitFor(2)
                release.signal()
                try await busy.value
                try await plain.value
                try await urgent.value
                return order.withLockedValue { $0 }
            }
            #expect(order == ["first", "plain"])
        }

        @Test func reusesIdleConnections() async throws {
            let (pids, statistics) = try await withPool(maxConnections: 3) { pool in
                var pids: Set<Int> = []
                for _ in 0..<5 {
                    pids.insert(try await pool.withConnection { try $0.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self) })
                }
                return (pids, pool.statistics)
            }
            #expect(pids.count == 1)
            #expect(statistics == .init(open: 1, inUse: 0, waiting: 0))
        }

        @Test func lostConnectionIsDroppedAndReplaced() async throws {
            let connectionString = try TestCluster.connectionString
            let (lost, before, after, statistics) = try await withPool(maxConnections: 1) { pool in
                let before = try await pool.withConnection { try $0.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self) }
                var lost: PostgresError?
                do {
                    try await pool.withConnection { connection in
                        let killer = try PostgresConnection(connectionString: connectionString)
                        try killer.query("SELECT pg_terminate_backend(\(before))")
                        // The next statement on the pooled connection finds it gone.
                        try connection.query("SELECT 1")
                    }
                } catch let error as PostgresError {
                    lost = error
                }
                let after = try await pool.withConnection { try $0.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self) }
                return (lost, before, after, pool.statistics)
            }
            #expect(lost?.code == .connectionLost)
            #expect(lost?.message.contains("lost") == true)
            #expect(before != after)
            #expect(statistics.open == 1)
        }

        @Test func brokenIdleConnectionIsReplacedBeforeUse() async throws {
            let connectionString = try TestCluster.connectionString
            let (before, after) = try await withPool(maxConnections: 1) { pool in
                let before = try await pool.withConnection { try $0.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self) }
                try await offload {
                    let killer = try PostgresConnection(connectionString: connectionString)
                    try killer.query("SELECT pg_terminate_backend(\(before), 5000)")
                }
                // The idle connection died while in the pool; the caller never sees that.
                let after = try await pool.withConnection { try $0.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self) }
                return (before, after)
            }
            #expect(before != after)
        }

        @Test func connectionFailureReleasesTheSlot() async throws {
            let pool = PostgresPool(connectionString: "host=/nonexistent dbname=cx", maxConnections: 1)
            for _ in 0..<3 {
                await #expect(throws: PostgresError.self) {
                    try await pool.withConnection { _ in 1 }
                }
            }
            #expect(pool.statistics == .init(open: 0, inUse: 0, waiting: 0))
            await pool.close()
        }

        @Test func closedPoolRefusesWorkAndFailsWaiters() async throws {
            let pool = PostgresPool(connectionString: try TestCluster.connectionString, maxConnections: 1)
            // The first caller holds the only connection until the test lets it go, so the
            // second one is sure to queue however slow the machine is.
            let release = DispatchSemaphore(value: 0)
            let busy = Task {
                try await pool.withConnection { connection in
                    release.wait()
                    return try connection.query("SELECT 1")
                }
            }
            try await waitUntil { pool.statistics.inUse == 1 }
            let waiter = Task { try await pool.withConnection { _ in 1 } }
            try await waitUntil { pool.statistics.waiting == 1 }
            // close() fails the waiters at once, then waits for leased work to finish.
            let closing = Task { await pool.close() }
            await #expect(throws: PostgresError.self) { try await waiter.value }
            release.signal()
            _ = try await busy.value  // Work already running finishes.
            await closing.value
            let error = await #expect(throws: PostgresError.self) {
                try await pool.withConnection { _ in 1 }
            }
            #expect(error?.code == .poolClosed)
            #expect(pool.statistics.open == 0)
        }

        @Test func cancelledWaiterLeavesTheQueue() async throws {
            try await withPool(maxConnections: 1) { pool in
                let release = DispatchSemaphore(value: 0)
                let busy = Task {
                    try await pool.withConnection { connection in
                        release.wait()
                        return try connection.query("SELECT 1")
                    }
                }
                try await waitUntil { pool.statistics.inUse == 1 }
                let waiter = Task { try await pool.withConnection { _ in 1 } }
                try await waitUntil { pool.statistics.waiting == 1 }
                waiter.cancel()
                await #expect(throws: CancellationError.self) { try await waiter.value }
                #expect(pool.statistics.waiting == 0)
                release.signal()
                _ = try await busy.value
                // The connection is still there for the next caller.
                #expect(try await pool.withConnection { _ in 2 } == 2)
            }
        }
    }
}

/// Polls `condition` every 5 ms; fails after `seconds` instead of hanging the whole test run.
func waitUntil(seconds: Double = 30, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !condition() {
        guard ContinuousClock.now < deadline else {
            struct TimedOut: Error, CustomStringConvertible { var description: String { "condition not met in time" } }
            throw TimedOut()
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}
