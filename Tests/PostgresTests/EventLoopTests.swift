import CXPostgres
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

extension PostgresTests {
    /// Blocking libpq calls must not stall event loops or Swift's cooperative threads.
    @Suite struct EventLoopTests {
        @Test func blockingQueriesStayOffTheEventLoopAndCooperativePool() async throws {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let loop = group.next()
            let interval = TimeAmount.milliseconds(10)

            let loopLateness = NIOLockedValueBox((last: NIODeadline?.none, worst: TimeAmount.zero, ticks: 0))
            let repeated = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                let now = NIODeadline.now()
                loopLateness.withLockedValue { state in
                    if let last = state.last {
                        state.worst = max(state.worst, now - last - interval)
                    }
                    state.last = now
                    state.ticks += 1
                }
            }

            // Where each piece of blocking work ran: the pool's own threads, never an event loop.
            // (Swift's cooperative pool is shared with every test running in parallel, some of
            // which wait on child processes, so its latency proves nothing here; the thread
            // identity does.)
            let threads = NIOLockedValueBox([(name: String, onEventLoop: Bool)]())
            try await withPool(maxConnections: 8) { pool in
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for _ in 0..<8 {
                        tasks.addTask {
                            _ = try await pool.withConnection { connection in
                                let name = Thread.current.name ?? ""
                                let onLoop = MultiThreadedEventLoopGroup.currentEventLoop != nil
                                threads.withLockedValue { $0.append((name, onLoop)) }
                                return try connection.query("SELECT pg_sleep(1)")
                            }
                        }
                    }
                    try await tasks.waitForAll()
                }
            }
            let ran = threads.withLockedValue { $0 }
            let promise = loop.makePromise(of: Void.self)
            repeated.cancel(promise: promise)
            try await promise.futureResult.get()
            try await group.shutdownGracefully()

            let (_, loopWorst, loopTicks) = loopLateness.withLockedValue { $0 }
            #expect(ran.count == 8)
            #expect(ran.allSatisfy { !$0.onEventLoop }, "libpq work ran on an event loop")
            #expect(ran.allSatisfy { $0.name.hasPrefix("TP-") }, "libpq work ran outside the pool's threads: \(ran.map(\.name))")
            // Loose bound: the machine is small, noisy and busy with parallel tests, but a loop
            // thread blocked by a query would be late by the query's full second.
            #expect(loopTicks >= 10)
            #expect(loopWorst < .milliseconds(700), "event loop was late by \(loopWorst)")
        }
    }
}
