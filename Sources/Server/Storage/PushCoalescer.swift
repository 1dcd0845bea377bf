import CXModel
import CXPostgres
import Logging
import Synchronization

/// Group commit for pushes: concurrent pushes share one transaction, one sequence lock and one
/// commit.
///
/// Every push must hold the sequence lock from the moment it reads until it commits (cursor
/// safety, see ``RecordStore``), so pushes are serial however many clients send them. Alone,
/// each one pays for its own `BEGIN`, lock, `COMMIT` and WAL flush, and holds a pool connection
/// while it waits for the lock — under many clients the pool fills with waiting pushes and
/// pulls queue behind them. Here a push joins a queue; one drain task at a time takes
/// everything waiting (up to ``maxMembers`` pushes and ``maxRecords`` records), confirms every
/// member's token check (``Authentication``: the access version comes with the `BEGIN`), admits
/// all their replicas (sync tokens checked and advanced, ``ReplicaRegistry/admit(_:on:)``, three
/// statements for the whole group), takes the lock once, reads what all of them need in one go
/// (``PushReads``), merges them one after another — each sees the ones before it exactly as if
/// they had committed first, and their writes go out together (``SharedMerge``) — and commits
/// once. So pushes hold one connection per server process for their serial part, and the rest
/// of the pool stays free for pulls.
///
/// Each member gets the outcome it would have had alone: per-record refusals are decided per
/// member as before, and a forked replica gets `409 replica_forked` — a revoked token `401` —
/// and writes nothing while the others go on. A member's admission commits with its writes,
/// never without them. If the shared transaction fails, it rolls back and every member is
/// retried in a transaction of its own, so one bad request cannot fail the others.
final class PushCoalescer: Sendable {
    let store: RecordStore
    /// Most pushes in one transaction.
    let maxMembers: Int
    /// Most records in one transaction (a single larger push still goes alone).
    let maxRecords: Int

    private let queue = Mutex(Queue())

    private struct Member: Sendable {
        let prepared: RecordStore.PreparedPush
        let writer: RecordStore.Writer
        let claim: ReplicaRegistry.Claim?
        let continuation: CheckedContinuation<RecordStore.PushOutcome, any Error>
    }

    private struct Queue: ~Copyable {
        var waiting: [Member] = []
        /// Whether a drain task is running (it empties the queue before it ends).
        var draining = false
        var statistics = Statistics()
    }

    /// What the coalescer has done so far, for tests and logs.
    struct Statistics: Sendable, Equatable {
        /// Pushes waiting for the next transaction.
        var waiting = 0
        /// Shared transactions committed (of two or more pushes).
        var sharedCommits = 0
        /// Pushes committed in shared transactions.
        var sharedPushes = 0
        /// Shared transactions that failed, after which their pushes were retried alone.
        var failedShares = 0
    }

    /// Current counts.
    var statistics: Statistics {
        queue.withLock { queue in
            var statistics = queue.statistics
            statistics.waiting = queue.waiting.count
            return statistics
        }
    }

    init(store: RecordStore, maxMembers: Int = 64, maxRecords: Int = 5_000) {
        precondition(maxMembers >= 1 && maxRecords >= 1)
        self.store = store
        self.maxMembers = maxMembers
        self.maxRecords = maxRecords
    }

    /// Merges `states` into storage as ``RecordStore/push(_:as:claim:logger:beforeCommit:)``
    /// does, sharing the transaction with the pushes waiting at the same time.
    func push(
        _ states: [RecordState], as writer: RecordStore.Writer, claim: ReplicaRegistry.Claim?, logger: Logger
    ) async throws -> RecordStore.PushOutcome {
        // Nothing to write: no sequence lock, nothing to share.
        guard !states.isEmpty else { return try await store.push(states, as: writer, claim: claim, logger: logger) }
        // Small pushes go by COPY when they are grouped (many clients at once): their rows are
        // encoded here, concurrently with other requests, rather than in the serial section. A
        // large push goes by COPY alone, its encoding overlapped with PostgreSQL's writes there
        // (RecordWriteSet.write), which encoding it here first would undo.
        let prepared = RecordStore.PreparedPush(states, encodingInsertsBy: states.count < RecordWriteSet.copyThreshold ? writer : nil)
        return try await withCheckedThrowingContinuation { continuation in
            let startDrain = queue.withLock { queue in
                queue.waiting.append(Member(prepared: prepared, writer: writer, claim: claim, continuation: continuation))
                guard !queue.draining else { return false }
                queue.draining = true
                return true
            }
            if startDrain {
                Task { await self.drain(logger: logger) }
            }
        }
    }

    /// Commits groups until the queue is empty.
    private func drain(logger: Logger) async {
        while true {
            let group: [Member] = queue.withLock { queue in
                guard !queue.waiting.isEmpty else {
                    queue.draining = false
                    return []
                }
                var count = 0
                var records = 0
                for member in queue.waiting {
                    if count > 0 && (count == maxMembers || records + member.prepared.count > maxRecords) { break }
                    count += 1
                    records += member.prepared.count
                }
                let group = Array(queue.waiting.prefix(count))
                queue.waiting.removeFirst(count)
                return group
            }
            guard !group.isEmpty else { return }
            await commit(group, logger: logger)
        }
    }

    /// Runs `group` in one transaction, or each member alone if that fails; answers every member.
    private func commit(_ group: [Member], logger: Logger) async {
        if group.count > 1 {
            do {
                // Every member waits for this transaction: it goes ahead of pulls in the pool's queue.
                let results = try await store.pool.withConnection(first: true) { connection in
                    // The access version every member is confirmed at comes with the BEGIN.
                    try connection.transaction(opening: Authentication.currentVersionSQL) { connection, version in
                        try Self.mergeAll(group, accessVersion: try Authentication.version(in: version), on: connection)
                    }
                }
                queue.withLock { queue in
                    queue.statistics.sharedCommits += 1
                    queue.statistics.sharedPushes += group.count
                }
                for (member, result) in zip(group, results) {
                    member.continuation.resume(with: result)
                }
                return
            } catch {
                queue.withLock { $0.statistics.failedShares += 1 }
                logger.info(
                    "a group commit failed; retrying its pushes one by one",
                    metadata: ["pushes": .stringConvertible(group.count), "error": "\(error)"])
            }
        }
        for member in group {
            do {
                member.continuation.resume(returning: try await store.push(member.prepared, as: member.writer, claim: member.claim, first: true))
            } catch {
                member.continuation.resume(throwing: error)
            }
        }
    }

    /// The shared transaction's body: every member's access confirmed and its replica admitted
    /// (row locks before the sequence lock, as every writer takes them), the sequence lock, one
    /// read for the admitted members, then each one's merge in arrival order; a refused
    /// member's answer is its `401` or `409`.
    private static func mergeAll(
        _ group: [Member], accessVersion: Int64, on connection: PostgresConnection
    ) throws -> [Result<RecordStore.PushOutcome, any Error>] {
        var refusals = [APIError?](repeating: nil, count: group.count)
        // Every member's access as it stands now, before anything is admitted or written: a
        // member whose token no longer authenticates gets its 401 and leaves no trace.
        var pushes = group.map { RecordStore.ConfirmedPush(prepared: $0.prepared, writer: $0.writer) }
        for index in group.indices {
            do {
                pushes[index] = try RecordStore.confirm(group[index].prepared, by: group[index].writer, atVersion: accessVersion, on: connection)
            } catch let refusal as APIError {
                refusals[index] = refusal
            }
        }
        let claimed = group.indices.compactMap { index in refusals[index] == nil ? group[index].claim.map { (index, $0) } : nil }
        for ((index, _), refusal) in zip(claimed, try ReplicaRegistry.admit(claimed.map { ($1, pushes[$0].writer) }, on: connection)) {
            refusals[index] = refusal
        }
        // One read of the epoch for the whole group, under the lock, before any of its writes.
        let epoch = try ServerEpoch.takingSequenceLock(on: connection)
        let admitted = group.indices.filter { refusals[$0] == nil }
        let merged = admitted.map { (pushes[$0].prepared, pushes[$0].writer) }
        var reads = try PushReads(merged, on: connection)
        var results: [Result<RecordStore.PushOutcome, any Error>] = refusals.map { refusal in
            refusal.map { .failure($0) } ?? .success(RecordStore.PushOutcome())
        }
        for (index, var outcome) in zip(admitted, try SharedMerge.merge(merged, reads: &reads, on: connection)) {
            outcome.epoch = epoch
            outcome.authentication = pushes[index].reread
            results[index] = .success(outcome)
        }
        return results
    }
}
