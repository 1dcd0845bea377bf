import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A bounded pool of ``PostgresConnection``s whose blocking libpq calls run on a private thread pool.
///
/// - Connections open lazily, up to `maxConnections`, and are reused (most recently used first).
/// - When all are busy, callers of ``withConnection(_:)`` wait in FIFO order; cancelling a waiting
///   task removes it from the queue.
/// - A connection that broke (``PostgresError/Code/connectionLost``, or found unhealthy before use)
///   is dropped and replaced by a fresh one on the next use. Failed work is **not** retried
///   automatically: the pool cannot know whether the work had already taken effect, so retrying is
///   the caller's decision.
/// - libpq calls block their thread, so they run on an `NIOThreadPool` with one thread per
///   connection, never on a NIO event loop or on Swift's cooperative thread pool.
public final class PostgresPool: Sendable {
    /// The most connections open at once.
    public let maxConnections: Int

    private let connectionString: String
    private let logger: Logger
    private let threadPool: NIOThreadPool
    private let state: NIOLockedValueBox<State>

    /// Permission to run one piece of work: an idle connection, or a slot to open a new one.
    enum Lease: Sendable {
        case existing(ConnectionBox)
        case new
    }

    private struct Waiter {
        let id: Int
        /// Queued ahead of the waiters without it.
        let first: Bool
        let continuation: CheckedContinuation<Lease, any Error>
    }

    private struct State {
        /// Idle connections; the last one is the most recently used (its server caches are warm).
        var idle: [ConnectionBox] = []
        /// Connections that exist or are being opened (idle + in use).
        var open = 0
        /// Leases handed out and not yet returned.
        var inUse = 0
        /// Callers waiting for a lease, oldest first.
        var waiters: [Waiter] = []
        var nextWaiterID = 0
        var closed = false
        /// `close()` calls waiting for the leased work to finish.
        var drainWaiters: [CheckedContinuation<Void, Never>] = []

        /// Hands out an idle connection or a slot for a new one, if there is either.
        mutating func lease(max: Int) -> Lease? {
            if let box = idle.popLast() {
                inUse += 1
                return .existing(box)
            }
            if open < max {
                open += 1
                inUse += 1
                return .new
            }
            return nil
        }
    }

    /// Creates a pool and starts its threads; connections open on first use.
    ///
    /// - Parameters:
    ///   - connectionString: A libpq URL or keyword string; see ``PostgresConnection/init(connectionString:logger:)``.
    ///   - maxConnections: The most connections (and threads) the pool uses; at least 1.
    ///   - logger: Receives pool and connection events.
    public init(connectionString: String, maxConnections: Int = 10, logger: Logger = Logger(label: "cx.postgres")) {
        precondition(maxConnections >= 1, "maxConnections must be at least 1")
        self.connectionString = connectionString
        self.maxConnections = maxConnections
        self.logger = logger
        self.state = NIOLockedValueBox(State())
        self.threadPool = NIOThreadPool(numberOfThreads: maxConnections)
        threadPool.start()
    }

    deinit {
        // A pool dropped without close(): stop the threads so they do not outlive it.
        // Nothing can be waiting or running here, since both would hold a reference to the pool.
        threadPool.shutdownGracefully { _ in }
    }

    /// Current counts, for metrics and tests.
    public var statistics: Statistics {
        state.withLockedValue { state in
            Statistics(open: state.open, inUse: state.inUse, waiting: state.waiters.count)
        }
    }

    /// Runs `body` with a connection on one of the pool's threads and returns its result.
    ///
    /// Waits (without blocking a thread) while all connections are busy. `body` may block: it runs
    /// on the pool's own thread, so it must not call `withConnection` again, since with all
    /// connections taken that would wait for itself. If `body` throws
    /// ``PostgresError/Code/connectionLost`` the connection is dropped and the next call gets a
    /// fresh one; the work is not retried. A connection left inside a transaction is rolled back
    /// before it is reused.
    ///
    /// - Parameter first: Wait ahead of the callers without it (behind earlier ones with it): for
    ///   work that others wait for, such as the one transaction that commits every waiting push.
    /// - Throws: What `body` threw; ``PostgresError/Code/connectionFailed`` if no connection could
    ///   be opened; ``PostgresError/Code/poolClosed`` after ``close()``; `CancellationError` if the
    ///   task was cancelled while waiting.
    public func withConnection<T: Sendable>(
        first: Bool = false,
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        let lease = try await acquire(first: first)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            // From here the work item owns the lease and returns it on every path.
            threadPool.submit { workState in
                guard case .active = workState else {
                    // The thread pool is shutting down (close() was called): give the lease back.
                    self.release(lease, keeping: nil)
                    continuation.resume(throwing: Self.closedError)
                    return
                }
                let box: ConnectionBox
                do {
                    box = try self.connection(for: lease)
                } catch {
                    self.release(.new, keeping: nil)
                    continuation.resume(throwing: error)
                    return
                }
                let result = Result { try body(box.connection) }
                var keep = true
                if case .failure(let error as PostgresError) = result, error.code == .connectionLost {
                    keep = false
                }
                self.release(.existing(box), keeping: keep && self.isReusable(box) ? box : nil)
                continuation.resume(with: result)
            }
        }
    }

    /// Stops the pool: waiting callers fail, idle connections close, work already running (or
    /// handed a connection) finishes and its connection then closes, and the threads stop.
    /// Returns when all of that is done. Later ``withConnection(_:)`` calls throw
    /// ``PostgresError/Code/poolClosed``. Calling it again does nothing.
    public func close() async {
        let (idle, waiters, first) = state.withLockedValue { state in
            guard !state.closed else { return ([ConnectionBox](), [Waiter](), false) }
            state.closed = true
            let idle = state.idle
            state.idle = []
            state.open -= idle.count
            let waiters = state.waiters
            state.waiters = []
            return (idle, waiters, true)
        }
        guard first else { return }
        for waiter in waiters {
            waiter.continuation.resume(throwing: Self.closedError)
        }
        // Closing sends a message to the server: do it on the pool's threads too.
        if !idle.isEmpty {
            _ = try? await threadPool.runIfActive {
                for box in idle {
                    box.connection.close()
                }
            }
        }
        // Let leased work finish on the still-running threads; the last release resumes us.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLockedValue { state in
                if state.inUse == 0 { return true }
                state.drainWaiters.append(continuation)
                return false
            }
            if done {
                continuation.resume()
            }
        }
        do {
            try await threadPool.shutdownGracefully()
        } catch {
            logger.warning("PostgreSQL pool threads did not shut down cleanly", metadata: ["error": "\(error)"])
        }
        logger.debug("PostgreSQL pool closed")
    }

    // MARK: - Leases

    private static var closedError: PostgresError {
        PostgresError(.poolClosed, "the PostgreSQL connection pool is closed (the server is shutting down)")
    }

    private func acquire(first: Bool) async throws -> Lease {
        let (immediate, id): (Result<Lease, any Error>?, Int) = state.withLockedValue { state in
            if state.closed { return (.failure(Self.closedError), 0) }
            if let lease = state.lease(max: maxConnections) { return (.success(lease), 0) }
            state.nextWaiterID += 1
            return (nil, state.nextWaiterID)
        }
        if let immediate {
            return try immediate.get()
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                let now: Result<Lease, any Error>? = state.withLockedValue { state in
                    // Checked under the lock: the cancellation handler takes the same lock, so a
                    // cancellation either is seen here or finds this waiter in the queue.
                    if state.closed { return .failure(Self.closedError) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    // A connection may have come back since the first look.
                    if let lease = state.lease(max: maxConnections) { return .success(lease) }
                    let waiter = Waiter(id: id, first: first, continuation: continuation)
                    if first {
                        state.waiters.insert(waiter, at: state.waiters.firstIndex { !$0.first } ?? state.waiters.endIndex)
                    } else {
                        state.waiters.append(waiter)
                    }
                    return nil
                }
                if let now {
                    continuation.resume(with: now)
                }
            }
        } onCancel: {
            let waiter = state.withLockedValue { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Returns a lease: `keeping` is the connection to reuse, or `nil` if it was dropped or never opened.
    private func release(_ lease: Lease, keeping box: ConnectionBox?) {
        enum Next {
            case nothing
            case hand(Waiter, Lease)
            case close(ConnectionBox)
        }
        var drained: [CheckedContinuation<Void, Never>] = []
        let next: Next = state.withLockedValue { state in
            state.inUse -= 1
            if state.closed, state.inUse == 0 {
                drained = state.drainWaiters
                state.drainWaiters = []
            }
            if let box, !state.closed {
                if !state.waiters.isEmpty {
                    state.inUse += 1
                    return .hand(state.waiters.removeFirst(), .existing(box))
                }
                state.idle.append(box)
                return .nothing
            }
            // The connection is gone (or the pool is closing): its slot frees up.
            state.open -= 1
            if !state.closed, !state.waiters.isEmpty {
                state.open += 1
                state.inUse += 1
                return .hand(state.waiters.removeFirst(), .new)
            }
            if let box {
                return .close(box)
            }
            return .nothing
        }
        // Dropped connections are closed here rather than left to deinit so it happens now,
        // on this (pool) thread.
        if case .existing(let old) = lease, old !== box {
            old.connection.close()
        }
        switch next {
        case .nothing:
            break
        case .hand(let waiter, let lease):
            waiter.continuation.resume(returning: lease)
        case .close(let box):
            box.connection.close()
        }
        for continuation in drained {
            continuation.resume()
        }
    }

    /// Turns a lease into a usable connection, replacing an idle one that went bad.
    /// Runs on a pool thread because connecting blocks.
    private func connection(for lease: Lease) throws(PostgresError) -> ConnectionBox {
        if case .existing(let box) = lease {
            if box.connection.isHealthy {
                return box
            }
            logger.info("dropping a broken idle PostgreSQL connection and opening a new one")
            box.connection.close()
        }
        return ConnectionBox(try PostgresConnection(connectionString: connectionString, logger: logger))
    }

    /// Whether a connection can go back to the idle list; rolls back a transaction left open.
    private func isReusable(_ box: ConnectionBox) -> Bool {
        guard box.connection.isHealthy else { return false }
        if box.connection.isInTransaction {
            logger.warning("a pooled PostgreSQL connection was returned inside a transaction; rolling it back")
            do {
                try box.connection.query("ROLLBACK")
            } catch {
                return false
            }
        }
        return true
    }
}
