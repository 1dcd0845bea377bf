import CXModel
import CXPostgres
import Logging

/// Reads and writes record states in PostgreSQL: merging pushed states into stored ones and
/// paging changes out by the change sequence.
///
/// **Cursor safety.** Every write transaction takes one transaction-scoped advisory lock before
/// it reads and assigns sequence numbers, and holds it until it commits. Sequence numbers are
/// therefore handed out in commit order: no transaction can commit a number lower than one
/// that is already visible, so a reader paging by `seq > cursor` never skips a change.
/// Concurrent pushes serialise on the lock for the short database part of their work only
/// (validation and decoding happen before).
struct RecordStore: Sendable {
    let pool: PostgresPool

    /// Advisory lock key for the change sequence ("cxseq" in ASCII).
    static let sequenceLockKey: Int64 = 0x63_78_73_65_71

    /// What a push did.
    struct PushOutcome: Sendable {
        /// States merged and written (changed).
        var written = 0
        /// States that changed nothing (already known: retries, duplicates).
        var unchanged = 0
        /// Records refused, with why.
        var rejected: [Rejection] = []
    }

    /// A pushed record the server refused, reported in the sync response.
    struct Rejection: Sendable, Equatable {
        let id: String
        let code: String
        let message: String
    }

    /// A page of changes after a cursor.
    struct Page: Sendable {
        /// The stored states as JSON text, in sequence order.
        var states: [String]
        /// The sequence number of the last state in the page (or the input cursor if none).
        var lastSequence: Int64
        var hasMore: Bool
    }

    /// Merges `states` into storage in one transaction. `beforeCommit` is a test hook that runs
    /// inside the transaction after the writes.
    func push(
        _ states: [RecordState], logger: Logger,
        beforeCommit: (@Sendable () throws -> Void)? = nil
    ) async throws -> PushOutcome {
        guard !states.isEmpty else { return PushOutcome() }
        // Several states of one record in a request are joined first (the merge is a join).
        var byID: [String: RecordState] = [:]
        var order: [String] = []
        var outcome = PushOutcome()
        for state in states {
            if let existing = byID[state.id] {
                guard existing.kind == state.kind else {
                    outcome.rejected.append(
                        Rejection(id: state.id, code: "kind_mismatch", message: "the request holds this id both as a customer and as an activity"))
                    continue
                }
                byID[state.id] = existing.merging(state)
            } else {
                byID[state.id] = state
                order.append(state.id)
            }
        }
        let rejectedEarly = outcome.rejected
        let pushed = order.compactMap { byID[$0] }.filter { state in !rejectedEarly.contains { $0.id == state.id } }
        return try await pool.withConnection { connection in
            try connection.transaction { connection in
                var result = PushOutcome(rejected: rejectedEarly)
                try connection.query("SELECT pg_advisory_xact_lock(\(Self.sequenceLockKey))")
                let ids = "{" + pushed.map(\.id).joined(separator: ",") + "}"
                var stored: [String: RecordState] = [:]
                for kind in RecordKind.allCases {
                    let table = kind == .customer ? "cx.customers" : "cx.activities"
                    let rows = try connection.query(
                        PostgresQuery(
                            unsafeSQL: "SELECT state::text AS state FROM \(table) WHERE id = ANY($1::uuid[]) FOR UPDATE",
                            binds: [ids]))
                    for row in rows {
                        let state = try RecordState(jsonString: try row.decode("state", as: String.self))
                        stored[state.id] = state
                    }
                }
                var toWrite: [RecordKind: [RecordState]] = [:]
                for state in pushed {
                    guard let current = stored[state.id] else {
                        toWrite[state.kind, default: []].append(state)
                        continue
                    }
                    guard current.kind == state.kind else {
                        result.rejected.append(
                            Rejection(
                                id: state.id, code: "kind_mismatch",
                                message: "record \(state.id) is stored as a \(current.kind.rawValue), not a \(state.kind.rawValue)"))
                        continue
                    }
                    let merged = current.merging(state)
                    if merged == current {
                        result.unchanged += 1
                    } else {
                        toWrite[state.kind, default: []].append(merged)
                    }
                }
                for kind in RecordKind.allCases {
                    guard let states = toWrite[kind], !states.isEmpty else { continue }
                    // One statement per thousand rows keeps each bound document modest.
                    var start = 0
                    while start < states.count {
                        let chunk = Array(states[start..<min(start + 1000, states.count)])
                        try connection.query(
                            PostgresQuery(unsafeSQL: RecordRowEncoder.upsertSQL(for: kind), binds: [RecordRowEncoder.rows(chunk)]))
                        start += 1000
                    }
                    result.written += states.count
                }
                try beforeCommit?()
                return result
            }
        }
    }

    /// The changes with a sequence number greater than `cursor`, at most `limit` of them.
    func pull(after cursor: Int64, limit: Int) async throws -> Page {
        try await pool.withConnection { connection in
            let rows = try connection.query(
                """
                SELECT seq, state::text AS state FROM (
                    (SELECT seq, state FROM cx.customers WHERE seq > \(cursor) ORDER BY seq LIMIT \(limit + 1))
                    UNION ALL
                    (SELECT seq, state FROM cx.activities WHERE seq > \(cursor) ORDER BY seq LIMIT \(limit + 1))
                ) AS changes
                ORDER BY seq LIMIT \(limit + 1)
                """)
            var states: [String] = []
            states.reserveCapacity(min(rows.count, limit))
            var last = cursor
            for row in rows.prefix(limit) {
                states.append(try row.decode("state", as: String.self))
                last = try row.decode("seq", as: Int64.self)
            }
            return Page(states: states, lastSequence: last, hasMore: rows.count > limit)
        }
    }
}
