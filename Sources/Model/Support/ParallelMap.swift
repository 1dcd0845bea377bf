import Dispatch

/// Runs a few independent pieces of work on the machine's cores at once, blocking the caller
/// (the client's report facts, the server's decoding of a pushed batch). From a task whose
/// waiting would stall other tasks, the client uses `OffPoolWork` instead.
public enum ParallelMap {
    /// `[work(0), work(1), …, work(count − 1)]`, computed concurrently (one iteration per
    /// core at most; in the calling thread when `count` is 1). The first error thrown, in index
    /// order, is rethrown once every iteration has finished.
    ///
    /// `work` must be safe to call from several threads at once: what it captures is only read
    /// (immutable values, files read with `pread`), and each call builds its own result.
    public static func map<Result>(_ count: Int, _ work: (Int) throws -> Result) throws -> [Result] {
        guard count > 1 else { return try (0..<count).map(work) }
        let outcomes = Outcomes<Result>(count: count)
        withoutActuallyEscaping(work) { work in
            let shared = SharedWork(work: work)
            DispatchQueue.concurrentPerform(iterations: count) { index in
                outcomes.set(index, Swift.Result { try shared.work(index) })
            }
        }
        return try outcomes.values().map { try $0.get() }
    }

    /// `items.map(transform)`, computed in `workers` consecutive shares at once (in the calling
    /// thread when `workers` is 1 or there are fewer items than workers). `transform` must be
    /// safe to call concurrently, as for ``map(_:_:)``.
    public static func map<Item, Result>(
        _ items: [Item], workers: Int, _ transform: (Item) -> Result
    ) -> [Result] {
        let workers = Swift.max(1, Swift.min(workers, items.count))
        guard workers > 1 else { return items.map(transform) }
        let share = (items.count + workers - 1) / workers
        let parts = try? map(workers) { worker in
            items[Swift.min(items.count, worker * share)..<Swift.min(items.count, (worker + 1) * share)].map(transform)
        }
        // `transform` does not throw, so neither does any share.
        return parts?.flatMap { $0 } ?? items.map(transform)
    }
}

/// The closure handed to every iteration.
///
/// `@unchecked Sendable`: the closure is not `@Sendable` in its type, but ``ParallelMap/map(_:_:)``
/// requires of its callers that it be safe to call concurrently (see there), and it does not
/// escape: `concurrentPerform` returns only after every iteration has finished.
private final class SharedWork<Result>: @unchecked Sendable {
    let work: (Int) throws -> Result
    init(work: @escaping (Int) throws -> Result) { self.work = work }
}

/// One outcome slot per iteration.
///
/// `@unchecked Sendable`: each iteration writes only the slot of its own index, and the slots
/// are read only after `concurrentPerform` has returned, which happens after every write.
private final class Outcomes<Result>: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<Swift.Result<Result, any Error>?>

    init(count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: nil)
    }

    deinit {
        buffer.deinitialize()
        buffer.deallocate()
    }

    func set(_ index: Int, _ outcome: Swift.Result<Result, any Error>) { buffer[index] = outcome }

    func values() -> [Swift.Result<Result, any Error>] { buffer.map { $0! } }
}
