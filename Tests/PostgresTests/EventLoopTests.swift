import CXPostgres
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

            let cooperative = Task { () -> (worst: Duration, ticks: Int) in
                var worst = Duration.zero
                var ticks = 0
                let clock = ContinuousClock()
                while !Task.isCancelled {
                    let before = clock.now
                    try? await Task.sleep(for: .milliseconds(10))
                    worst = max(worst, clock.now - before - .milliseconds(10))
                    ticks += 1
                }
                return (worst, ticks)
            }

            try await withPool(maxConnections: 8) { pool in
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for _ in 0..<8 {
                        tasks.addTask {
                            _ = try await pool.withConnection { try $0.query("SELECT pg_sleep(0.3)") }
                        }
                    }
                    try await tasks.waitForAll()
                }
            }

            cooperative.cancel()
            let (cooperativeWorst, cooperativeTicks) = await cooperative.value
            let promise = loop.makePromise(of: Void.self)
            repeated.cancel(promise: promise)
            try await promise.futureResult.get()
            try await group.shutdownGracefully()

            let (_, loopWorst, loopTicks) = loopLateness.withLockedValue { $0 }
            // Loose bounds: the machine is small and noisy, but a blocked thread would be late by 300 ms or more.
            #expect(loopTicks >= 10)
            #expect(loopWorst < .milliseconds(150), "event loop was late by \(loopWorst)")
            #expect(cooperativeTicks >= 10)
            #expect(cooperativeWorst < .milliseconds(150), "cooperative pool was late by \(cooperativeWorst)")
        }
    }
}
