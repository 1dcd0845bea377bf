import Dispatch
import Synchronization

/// A value computed on another thread while the calling thread does other work: the import
/// builds and encodes the next chunk's states, and a push the next set of its rows
/// (``RecordWriteSet/write(_:on:)``), while PostgreSQL writes the current one, so on two
/// cores the Swift half and the database half run side by side.
final class OffThread<Value: Sendable>: Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private let outcome = Mutex<Result<Value, any Error>?>(nil)

    /// Starts `body` on a global queue.
    init(_ body: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            let result = Result { try body() }
            outcome.withLock { $0 = result }
            finished.signal()
        }
    }

    /// Waits for `body` to finish; its value, or the error it threw.
    func value() throws -> Value {
        finished.wait()
        finished.signal()  // a later call returns at once
        return try outcome.withLock { $0! }.get()
    }
}
