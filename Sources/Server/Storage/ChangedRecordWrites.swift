import CXModel
import CXPostgres

/// Stored records a push or an import changed in place, written with `COPY` into a temporary
/// table and one `UPDATE … FROM` instead of an upsert (``RecordWriteSet``; docs/benchmarks.md
/// "ERP import" and "Push writes by COPY").
///
/// Takes only changes that need nothing beyond the row and its audit row (``takes(_:replacing:)``):
/// a customer that keeps its territory, an activity that keeps its customer. For those it
/// writes exactly what ``PushWrites`` writes: the typed columns and state
/// (``RecordRowEncoder``) with a new sequence number, `updated_at = now()`, and an `update` audit
/// row in `cx.changes` (``AuditEntry``) carrying the same number. Moves (which leave exits and
/// re-number activities) go through ``PushWrites``.
///
/// ``add(_:replacing:)`` only encodes, so a caller can build the next batch on another thread
/// while ``apply(on:)`` runs; the caller's transaction must hold the sequence lock
/// (``RecordStore/takeSequenceLock(on:)``) from before ``apply(on:)`` to its commit.
struct ChangedRecordWrites: Sendable {
    /// Rows for the temporary table, without their leading `seq` column, by kind.
    private var rows: [RecordKind: PostgresCopyText] = [:]
    /// The audit rows, one per row above, in the same order and also without `seq`.
    private var audit: [RecordKind: PostgresCopyText] = [:]

    /// How many records are written.
    private(set) var count = 0
    /// Holds each JSON column while it is escaped into its row.
    private var scratch = JSONWriter(capacity: 4096)

    /// Whether replacing `previous` by `merged` is a change this writer takes: nothing follows
    /// from it but the row and its audit row.
    static func takes(_ merged: RecordState, replacing previous: RecordState) -> Bool {
        switch merged.kind {
        case .customer: previous.displayedValue("territory") == merged.displayedValue("territory")
        case .activity: previous.displayedValue("customer_id") == merged.displayedValue("customer_id")
        }
    }

    /// Adds `merged`, which replaces the stored `previous` (``takes(_:replacing:)`` must hold),
    /// written by `writer`.
    mutating func add(_ merged: RecordState, replacing previous: RecordState, by writer: RecordStore.Writer) {
        let displayed = merged.displayedFields
        RecordRowEncoder.copyRow(merged, displayed: displayed, scratch: &scratch, into: &rows[merged.kind, default: PostgresCopyText(capacity: 1 << 20)])
        AuditEntry.copyRow(
            previous: previous, merged: merged, displayed: displayed, by: writer, scratch: &scratch, into: &audit[merged.kind, default: PostgresCopyText()])
        count += 1
    }

    /// Writes every record of `kind` and its audit row, inside the caller's transaction (which
    /// holds the sequence lock).
    func apply(_ kind: RecordKind, on connection: PostgresConnection) throws {
        guard let rows = rows[kind], rows.rowCount > 0, let audit = audit[kind] else { return }
        let table = RecordStore.table(of: kind)
        let staging = "cx_changed_" + kind.rawValue
        let columns = RecordRowEncoder.copyColumns(for: kind)
        // Same column types as the table, no constraints; dropped with the transaction.
        try connection.query(
            PostgresQuery(
                unsafeSQL: "CREATE TEMP TABLE IF NOT EXISTS \(staging) ON COMMIT DROP AS SELECT \(columns.joined(separator: ", ")) FROM \(table) WITH NO DATA"))
        try connection.query(PostgresQuery(unsafeSQL: "TRUNCATE \(staging)"))
        let numbers = try RecordStore.sequenceNumbers(rows.rowCount, on: connection)
        try connection.copyIn(
            "COPY \(staging) (\(columns.joined(separator: ", "))) FROM STDIN", data: rows.prefixingEachRow(with: numbers))
        let assignments = columns.filter { $0 != "id" }.map { "\($0) = s.\($0)" }.joined(separator: ", ")
        let updated = try connection.query(
            PostgresQuery(unsafeSQL: "UPDATE \(table) AS t SET \(assignments), updated_at = now() FROM \(staging) AS s WHERE t.id = s.id")
        ).affectedRows
        guard updated == rows.rowCount else {
            throw PostgresError(.queryFailed, "a write updated \(updated) of \(rows.rowCount) stored \(kind.rawValue)s; nothing was written")
        }
        try connection.copyIn(AuditEntry.copySQL, data: audit.prefixingEachRow(with: numbers))
    }

    /// Writes every record and its audit row, customers first.
    func apply(on connection: PostgresConnection) throws {
        for kind in RecordKind.allCases { try apply(kind, on: connection) }
    }
}
