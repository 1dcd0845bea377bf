import CXModel
import CXPostgres

/// Records new to the server, written with `COPY` instead of an upsert (``RecordWriteSet``, for
/// pushes and `cx-server import`; docs/benchmarks.md "ERP import" and "Push writes by COPY").
///
/// Writes exactly what ``PushWrites`` writes for a record it adds with no previous state: the
/// row with its typed columns (``RecordRowEncoder``) and a sequence number of its own, an
/// `insert` audit row in `cx.changes` (``AuditEntry``) carrying the same number, and for a
/// customer, new numbers for any activities already stored under its id. A new record needs
/// no `ON CONFLICT` and no read-back of its number: the numbers are taken in one statement,
/// in row order, and both the rows and the audit rows are sent with them.
///
/// ``add(_:)`` only encodes, without a connection, so a caller can build the next batch on
/// another thread while ``apply(on:)`` runs. The caller's transaction must hold the sequence
/// lock (``RecordStore/takeSequenceLock(on:)``) from before ``apply(on:)`` to its commit,
/// as every writer does: a pull's cursor then never passes a number that commits later.
struct NewRecordWrites: Sendable {
    /// COPY rows without their leading `seq` column, by kind: rows encoded ahead kept as they
    /// came (a group commit's, one piece each), rows encoded here appended to the last piece.
    /// ``apply(_:on:)`` joins them once, numbering each row as it goes.
    private var rows: [RecordKind: [PostgresCopyText]] = [:]
    /// The audit rows, one per row above, in the same order and also without `seq`.
    private var audit: [RecordKind: [PostgresCopyText]] = [:]
    /// New customers: activities stored under their id are re-sequenced, as for a push.
    private var arrived: [String] = []
    /// Holds each JSON column while it is escaped into its row.
    private var scratch = JSONWriter(capacity: 4096)

    /// How many records are written.
    private(set) var count = 0

    /// A record's row and audit row, encoded ahead (``encode(_:by:)``) for ``add(_:by:encoded:)``.
    struct Encoded: Sendable {
        let row: PostgresCopyText
        let audit: PostgresCopyText
    }

    /// The rows ``add(_:by:encoded:)`` writes for `state` as a new record written by `writer`:
    /// a push encodes them before it waits for the sequence lock, so the serial section only
    /// copies bytes.
    static func encode(_ state: RecordState, by writer: RecordStore.Writer) -> Encoded {
        let displayed = state.displayedFields
        var scratch = JSONWriter(capacity: 1024)
        var row = PostgresCopyText(capacity: 1024)
        RecordRowEncoder.copyRow(state, displayed: displayed, scratch: &scratch, into: &row)
        var audit = PostgresCopyText(capacity: 512)
        AuditEntry.copyRow(previous: nil, merged: state, displayed: displayed, by: writer, scratch: &scratch, into: &audit)
        return Encoded(row: row, audit: audit)
    }

    /// Adds `state`, a record the server does not hold (no stored row has its id), written by
    /// `writer`; `encoded` must be ``encode(_:by:)``'s rows for the same state and writer.
    mutating func add(_ state: RecordState, by writer: RecordStore.Writer, encoded: Encoded? = nil) {
        if let encoded {
            rows[state.kind, default: []].append(encoded.row)
            audit[state.kind, default: []].append(encoded.audit)
        } else {
            let displayed = state.displayedFields
            Self.appendingToLastPiece(&rows[state.kind, default: []], capacity: 1 << 20) {
                RecordRowEncoder.copyRow(state, displayed: displayed, scratch: &scratch, into: &$0)
            }
            Self.appendingToLastPiece(&audit[state.kind, default: []], capacity: 1 << 16) {
                AuditEntry.copyRow(previous: nil, merged: state, displayed: displayed, by: writer, scratch: &scratch, into: &$0)
            }
        }
        if state.kind == .customer { arrived.append(state.id) }
        count += 1
    }

    /// Runs `encode` on the last of `pieces`, a new one of `capacity` if there is none.
    private static func appendingToLastPiece(
        _ pieces: inout [PostgresCopyText], capacity: Int, _ encode: (inout PostgresCopyText) -> Void
    ) {
        if pieces.isEmpty { pieces.append(PostgresCopyText(capacity: capacity)) }
        encode(&pieces[pieces.count - 1])
    }

    /// Writes every record of `kind` and its audit row, inside the caller's transaction (which
    /// holds the sequence lock).
    func apply(_ kind: RecordKind, on connection: PostgresConnection) throws {
        guard let rows = rows[kind], let audit = audit[kind] else { return }
        let rowCount = rows.reduce(0) { $0 + $1.rowCount }
        guard rowCount > 0 else { return }
        let numbers = try RecordStore.sequenceNumbers(rowCount, on: connection)
        try connection.copyIn(RecordRowEncoder.copySQL(for: kind), data: PostgresCopyText.prefixingEachRow(of: rows, with: numbers))
        try connection.copyIn(AuditEntry.copySQL, data: PostgresCopyText.prefixingEachRow(of: audit, with: numbers))
        // Activities stored under a new customer's id take numbers after it, before this
        // batch's own activities are numbered (callers apply customers first): so every
        // audit row keeps its record's final number, as the push path's join gives it.
        if kind == .customer && !arrived.isEmpty {
            let ids = "{" + arrived.joined(separator: ",") + "}"
            try connection.query(
                "UPDATE cx.activities SET seq = nextval('cx.change_seq') WHERE customer_id = ANY(\(ids)::uuid[])",
                preparedAs: "cx_resequence_activities")
        }
    }

    /// Writes every record and its audit row, customers first (see ``apply(_:on:)``).
    func apply(on connection: PostgresConnection) throws {
        for kind in RecordKind.allCases { try apply(kind, on: connection) }
    }
}
