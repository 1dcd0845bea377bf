import CXModel
import CXPostgres

/// The pushes of one transaction merged one after another, and written together while they
/// touch different records.
///
/// Each push must see the ones before it exactly as if they had committed first. A push's
/// decisions read only the records it touches — the records it sends, and the customers its
/// activities name, before and after (their scope facts) — so a push that touches none of the
/// records the pushes before it touched decides the same whether their writes went out before
/// it or not. Their writes are therefore gathered and sent as one set (``RecordWriteSet``: a
/// few statements, by `COPY` once large enough, instead of several statements per push), and
/// sent before the first push that touches one of those records decides, which then reads
/// them back (``PushReads/refresh(_:on:)``) as it would have alone.
///
/// Echoes stay exact: a push's echoes are records it touched, which no other push of the same
/// set writes, so the sequence number read after the set's writes passes no change of theirs
/// made by anyone else.
enum SharedMerge {
    /// Merges `pushes` in order inside the caller's transaction (which holds the sequence lock
    /// and has admitted their replicas); returns each one's outcome.
    static func merge(
        _ pushes: [(prepared: RecordStore.PreparedPush, writer: RecordStore.Writer)], reads: inout PushReads,
        on connection: PostgresConnection
    ) throws -> [RecordStore.PushOutcome] {
        var outcomes: [RecordStore.PushOutcome] = []
        outcomes.reserveCapacity(pushes.count)
        var unwritten = Unwritten()
        for (prepared, writer) in pushes {
            let touched = reads.records(touchedBy: prepared)
            if !touched.isDisjoint(with: unwritten.touched) {
                try unwritten.write(into: &outcomes, on: connection)
            }
            let decision = try RecordStore.decide(prepared, as: writer, reads: &reads, on: connection)
            unwritten.add(decision, of: outcomes.count, touching: touched)
            outcomes.append(decision.outcome)
        }
        try unwritten.write(into: &outcomes, on: connection)
        return outcomes
    }

    /// Decisions whose writes have not gone out yet.
    private struct Unwritten {
        var writes: [RecordWriteSet.Write] = []
        /// Everything the pushes behind these writes touched.
        var touched: Set<String> = []
        /// The pushes (their index among the outcomes) with records left exactly as sent.
        var echoes: [(push: Int, ids: [String])] = []

        mutating func add(_ decision: RecordStore.MergeDecision, of push: Int, touching records: Set<String>) {
            writes += decision.writes
            touched.formUnion(records)
            if !decision.echoIDs.isEmpty { echoes.append((push, decision.echoIDs)) }
        }

        /// Sends the writes, then gives each push with echoes the sequence number they pass.
        mutating func write(into outcomes: inout [RecordStore.PushOutcome], on connection: PostgresConnection) throws {
            if !writes.isEmpty { try RecordWriteSet.write(writes, on: connection) }
            if !echoes.isEmpty, let through = try RecordStore.lastSequence(on: connection) {
                for (push, ids) in echoes { outcomes[push].echoes = RecordStore.Echoes(ids: ids, throughSequence: through) }
            }
            self = Unwritten()
        }
    }
}
