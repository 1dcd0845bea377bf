import CXModel
import CXPostgres

/// Writes by multi-row upsert, and everything that follows from them: the audit rows, the
/// territory exits of customers that moved and of activities moved to another customer, and new
/// sequence numbers for the activities of customers that arrived or moved. ``RecordWriteSet``
/// sends it the moves of a push or an import; new records and changes in place go by `COPY`
/// and write the same rows.
struct PushWrites {
    private var states: [RecordKind: [RecordState]] = [:]
    private var audit: [RecordKind: [UInt8]] = [:]
    /// Customers whose territory changed, with the territory they left.
    private var exits: [(id: String, territory: String)] = []
    /// Customers new to the server or in a new territory: their activities are re-sequenced.
    private var arrived: [String] = []
    /// Activities whose customer changed, with the customer they left.
    private var activityExits: [(id: String, customer: String)] = []

    /// How many records are written.
    private(set) var count = 0
    /// The ids of the records written.
    private(set) var ids: [String] = []

    /// Adds `merged`, which replaces `previous` (`nil`: a new record), written by `writer`.
    mutating func add(_ merged: RecordState, replacing previous: RecordState?, by writer: RecordStore.Writer) {
        states[merged.kind, default: []].append(merged)
        count += 1
        ids.append(merged.id)
        if merged.kind == .customer {
            let before = previous?.displayedValue("territory")
            let after = merged.displayedValue("territory")
            if previous == nil {
                arrived.append(merged.id)
            } else if before != after {
                arrived.append(merged.id)
                if let before { exits.append((merged.id, before)) }
            }
        } else if let previous, let before = previous.displayedValue("customer_id"),
                  before != merged.displayedValue("customer_id") {
            activityExits.append((merged.id, before))
        }
        var w = JSONWriter()
        if audit[merged.kind]?.isEmpty ?? true {
            w.byte(UInt8(ascii: "["))
        } else {
            w.byte(UInt8(ascii: ","))
        }
        AuditEntry.encodeRow(previous: previous, merged: merged, by: writer, into: &w)
        audit[merged.kind, default: []].append(contentsOf: w.bytes)
    }

    /// `[{"<first key>": …, "<second key>": …}, …]`: rows bound as one `jsonb` parameter.
    private static func pairs(_ rows: [(String, String)], keys: (String, String)) -> String {
        var w = JSONWriter()
        w.byte(UInt8(ascii: "["))
        for (index, row) in rows.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.byte(UInt8(ascii: "{"))
            w.string(keys.0)
            w.byte(UInt8(ascii: ":"))
            w.string(row.0)
            w.byte(UInt8(ascii: ","))
            w.string(keys.1)
            w.byte(UInt8(ascii: ":"))
            w.string(row.1)
            w.byte(UInt8(ascii: "}"))
        }
        w.byte(UInt8(ascii: "]"))
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// Runs every statement, inside the caller's transaction (which holds the sequence lock).
    func apply(on connection: PostgresConnection) throws {
        for kind in RecordKind.allCases {
            guard let states = states[kind], !states.isEmpty else { continue }
            // One statement per thousand rows keeps each bound document modest.
            var start = 0
            while start < states.count {
                let chunk = Array(states[start..<min(start + 1000, states.count)])
                try connection.query(
                    PostgresQuery(unsafeSQL: RecordRowEncoder.upsertSQL(for: kind), binds: [RecordRowEncoder.rows(chunk)]))
                start += 1000
            }
        }
        if !exits.isEmpty {
            let document = Self.pairs(exits.map { ($0.id, $0.territory) }, keys: ("id", "territory"))
            try connection.query(
                """
                INSERT INTO cx.territory_exits (customer_id, territory, seq)
                SELECT x.id, x.territory, nextval('cx.change_seq') FROM jsonb_to_recordset(\(document)::jsonb) AS x(id uuid, territory text)
                ON CONFLICT (customer_id, territory) DO UPDATE SET seq = excluded.seq, exited_at = now()
                """)
        }
        if !activityExits.isEmpty {
            // The territory the activity left is its old customer's (as it stands after this
            // push's customer writes); the pull leaves out users who still see it.
            let document = Self.pairs(activityExits.map { ($0.id, $0.customer) }, keys: ("id", "customer"))
            try connection.query(
                """
                INSERT INTO cx.activity_exits (activity_id, territory, seq)
                SELECT x.id, c.territory, nextval('cx.change_seq')
                FROM jsonb_to_recordset(\(document)::jsonb) AS x(id uuid, customer uuid)
                JOIN cx.customers c ON c.id = x.customer
                WHERE c.territory IS NOT NULL
                ON CONFLICT (activity_id, territory) DO UPDATE SET seq = excluded.seq, exited_at = now()
                """)
        }
        if !arrived.isEmpty {
            let ids = "{" + arrived.joined(separator: ",") + "}"
            try connection.query(
                "UPDATE cx.activities SET seq = nextval('cx.change_seq') WHERE customer_id = ANY(\(ids)::uuid[])",
                preparedAs: "cx_resequence_activities")
        }
        for kind in RecordKind.allCases {
            guard var rows = audit[kind], !rows.isEmpty else { continue }
            rows.append(UInt8(ascii: "]"))
            let document = String(decoding: rows, as: UTF8.self)
            try connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO cx.changes (record_id, kind, operation, user_id, user_name, replica_id, fields, has_conflicts, seq)
                        SELECT r.id, $2, r.operation, r.user_id, r.user_name, r.replica_id, r.fields, r.has_conflicts, t.seq
                        FROM jsonb_to_recordset($1::jsonb)
                             AS r(id uuid, operation text, user_id bigint, user_name text, replica_id text, fields jsonb, has_conflicts boolean)
                        JOIN \(RecordStore.table(of: kind)) t ON t.id = r.id
                        """,
                    binds: [document, kind.rawValue]))
        }
    }
}
