import CXModel
import CXPostgres

extension RecordStore {
    /// A page of a snapshot (docs/sync-protocol.md §2a).
    struct SnapshotPage: Sendable {
        /// The stored states as JSON text: customers, then activities, each in id order.
        var states: [String]
        /// Where the snapshot goes on; `nil` after its last page.
        var next: SnapshotCursor.Position?
        /// The sequence number the snapshot began at (the regular cursor after its last page).
        var through: Int64
    }

    /// The next page of a snapshot of `scope`, from `position` (`nil`: the start), at most
    /// `limit` states: the records the scope holds, customers first, each table in id order.
    ///
    /// A snapshot begins at the highest sequence number visible in the record tables. Writers
    /// take the sequence lock and commit in number order (``RecordStore``), so every change
    /// numbered up to it is visible by then, and every page read later holds it — or a later
    /// state of the same record, numbered higher, which the pulls after the snapshot deliver
    /// again. A record that enters the scope, leaves it or changes after the snapshot began
    /// gets a higher number (its exit too): the pulls after the snapshot see to it, whether or
    /// not its id was already passed.
    func snapshot(
        from position: SnapshotCursor.Position?, epoch: String, limit: Int, scope: AccessScope
    ) async throws -> SnapshotPage {
        try await pool.withConnection { connection in
            var position = try position ?? SnapshotCursor.Position(
                through: Self.highestVisibleSequence(on: connection), epoch: epoch, kind: .customer, after: nil)
            var states: [String] = []
            states.reserveCapacity(limit)
            while true {
                let wanted = limit - states.count
                // One more row than wanted says whether the table goes on after the page.
                let rows = try Self.snapshotRows(of: position.kind, after: position.after, count: wanted + 1, scope: scope, on: connection)
                for row in rows.prefix(wanted) {
                    states.append(try row.decode("state", as: String.self))
                    position.after = try row.decode("id", as: String.self)
                }
                if rows.count > wanted {
                    return SnapshotPage(states: states, next: position, through: position.through)
                }
                // This table is done: on to activities, or the snapshot's end.
                guard position.kind == .customer else {
                    return SnapshotPage(states: states, next: nil, through: position.through)
                }
                position.kind = .activity
                position.after = nil
                if states.count == limit {
                    return SnapshotPage(states: states, next: position, through: position.through)
                }
            }
        }
    }

    /// The highest sequence number of a stored record. Every lower number is visible too: the
    /// transactions that draw them commit one after another, in number order.
    private static func highestVisibleSequence(on connection: PostgresConnection) throws -> Int64 {
        try connection.query(
            """
            SELECT greatest(coalesce((SELECT max(seq) FROM cx.customers), 0), coalesce((SELECT max(seq) FROM cx.activities), 0)) AS through
            """, preparedAs: "cx_snapshot_through")[0].decode("through", as: Int64.self)
    }

    /// Up to `count` records of the `kind` table that `scope` holds, with ids after `after`,
    /// in id order (the primary key's order: UUIDs compare as their lowercase text does). The
    /// order names the table's column: `ORDER BY id` would sort by the text output column of
    /// that name, reading the whole table (170 ms a page of 50,000 customers, measured).
    ///
    /// One statement per table, scope and start, each prepared once per connection; the SQL is
    /// put together from fixed pieces only, every value is a bind parameter.
    private static func snapshotRows(
        of kind: RecordKind, after: String?, count: Int, scope: AccessScope, on connection: PostgresConnection
    ) throws -> PostgresRows {
        var sql = "SELECT r.id::text AS id, r.state::text AS state FROM " + (kind == .customer ? "cx.customers r" : "cx.activities r")
        var conditions: [String] = []
        var binds: [String?] = []
        if !scope.isUnrestricted {
            binds.append(PostgresArrayLiteral.text(scope.sortedTerritories))
            if kind == .activity { sql += " JOIN cx.customers c ON c.id = r.customer_id" }
            conditions.append((kind == .customer ? "r" : "c") + ".territory = ANY($1::text[])")
        }
        // A table's first page has no id to start after: from the nil UUID, which sorts first,
        // inclusive (a record could have it).
        binds.append(after ?? "00000000-0000-0000-0000-000000000000")
        conditions.append("r.id " + (after == nil ? ">=" : ">") + " $\(binds.count)::uuid")
        binds.append(String(count))
        sql += " WHERE " + conditions.joined(separator: " AND ") + " ORDER BY r.id LIMIT $\(binds.count)"
        let name = "cx_snapshot_\(kind.rawValue)_\(scope.isUnrestricted ? "all" : "scoped")_\(after == nil ? "from" : "after")"
        return try connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), preparedAs: name)
    }
}
