import Dispatch
import Foundation

/// Long computations run on dispatch's global queue rather than on Swift concurrency's pool.
///
/// The pool has one thread per core, and a task computing for tens of milliseconds holds one
/// (decoding a pulled page on both cores held both): the sync's own steps and the send of the
/// next request then waited for a thread — 10–16 ms per page of a first sync, measured — while
/// the machine had a core to spare. The global queue's threads are scheduled by the system
/// beside the pool's, and are reused: a new thread per page (tried first) left each its own
/// malloc arena, and a first sync of the sample book peaked 30 MB higher.
enum OffPoolWork {
    /// `[work(0), …, work(count − 1)]`, computed concurrently on the global queue; resumes once
    /// all are done.
    static func map<Result: Sendable>(_ count: Int, _ work: @escaping @Sendable (Int) -> Result) async -> [Result] {
        guard count > 0 else { return [] }
        return await withCheckedContinuation { continuation in
            let results = Results(count: count, continuation)
            for index in 0..<count {
                DispatchQueue.global(qos: .userInitiated).async { results.set(index, work(index)) }
            }
        }
    }

    /// Releases `value` on the global queue: freeing a large value (a decoded page: thousands of
    /// arrays and dictionaries) is work of its own, kept off the caller's thread. Pass the last
    /// reference (`consume`), or the caller may still be the one that frees it.
    static func release(_ value: consuming some Sendable) {
        let last = value
        DispatchQueue.global(qos: .utility).async { withExtendedLifetime(last) {} }
    }

    /// `items.map(transform)`, computed in `workers` consecutive shares at once (nothing is
    /// handed to another thread for no items: a push's reply usually brings no states).
    static func map<Item: Sendable, Result: Sendable>(
        _ items: [Item], workers: Int, _ transform: @escaping @Sendable (Item) -> Result
    ) async -> [Result] {
        guard !items.isEmpty else { return [] }
        let workers = Swift.max(1, Swift.min(workers, items.count))
        let share = (items.count + workers - 1) / workers
        let parts = await map(workers) { worker in
            items[Swift.min(items.count, worker * share)..<Swift.min(items.count, (worker + 1) * share)].map(transform)
        }
        return Array(parts.joined())
    }
}

/// The results of one ``OffPoolWork/map(_:_:)``, handed to its continuation by the thread
/// that stores the last one.
///
/// `@unchecked Sendable`: every access to the slots and the count goes through `lock`, and the
/// continuation is resumed exactly once, by the thread whose store made the count reach zero.
private final class Results<Result: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Result?]
    private var missing: Int
    private let continuation: CheckedContinuation<[Result], Never>

    init(count: Int, _ continuation: CheckedContinuation<[Result], Never>) {
        values = Array(repeating: nil, count: count)
        missing = count
        self.continuation = continuation
    }

    func set(_ index: Int, _ value: Result) {
        lock.lock()
        values[index] = value
        missing -= 1
        let complete = missing == 0 ? values.map { $0! } : nil
        lock.unlock()
        if let complete { continuation.resume(returning: complete) }
    }
}
