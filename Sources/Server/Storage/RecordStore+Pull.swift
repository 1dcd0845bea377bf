import CXModel
import CXPostgres

extension RecordStore {
    /// The changes in `scope` with a sequence number greater than `cursor`, at most `limit`
    /// items (states and removals together).
    ///
    /// A restricted scope sees customers whose territory it holds, the activities of those
    /// customers, and the exits of customers that left one of its territories for one it does
    /// not hold (delivered as `removed`), and likewise the exits of activities moved to a customer
    /// of a territory it does not hold. Activities follow their customer: when a customer
    /// arrives in a territory, the push that moved it gave its activities new sequence numbers.
    ///
    /// With `echoes` (the push this pull follows, when its client asked), states that push left
    /// exactly as sent and that have not changed since are left out; they still count toward
    /// `limit` and the cursor moves past them, so paging is the same with or without.
    func pull(
        after cursor: Int64, limit: Int, scope: AccessScope = .unrestricted, omitting echoes: Echoes? = nil
    ) async throws -> Page {
        try await pool.withConnection { connection in
            let rows: PostgresRows
            // An echo's state is never printed: PostgreSQL skips the jsonb-to-text of the row. The
            // echoes are joined (hashed), not tested with `= ANY` (a scan of the array per row:
            // 7 ms for a page after a 1,000-record push against 2 ms joined, measured).
            let echoIDs = PostgresArrayLiteral.text(echoes?.ids ?? [])
            let echoesThrough = echoes?.throughSequence ?? 0
            if scope.isUnrestricted {
                rows = try connection.query(
                    """
                    SELECT seq, echoed, CASE WHEN echoed THEN NULL ELSE state::text END AS state, NULL::text AS removed FROM (
                        SELECT changes.seq, changes.state, (changes.seq <= \(echoesThrough) AND echo.id IS NOT NULL) AS echoed FROM (
                            (SELECT seq, id, state FROM cx.customers WHERE seq > \(cursor) ORDER BY seq LIMIT \(limit + 1))
                            UNION ALL
                            (SELECT seq, id, state FROM cx.activities WHERE seq > \(cursor) ORDER BY seq LIMIT \(limit + 1))
                            ORDER BY seq LIMIT \(limit + 1)
                        ) AS changes
                        LEFT JOIN (SELECT DISTINCT e FROM unnest(\(echoIDs)::uuid[]) AS e) AS echo(id) ON echo.id = changes.id
                    ) AS page
                    ORDER BY seq
                    """, preparedAs: "cx_pull_all")
            } else {
                let territories = PostgresArrayLiteral.text(scope.sortedTerritories)
                rows = try connection.query(
                    """
                    SELECT seq, echoed, CASE WHEN echoed THEN NULL ELSE state::text END AS state, removed FROM (
                    SELECT changes.seq, changes.state, changes.removed, (changes.seq <= \(echoesThrough) AND echo.id IS NOT NULL) AS echoed FROM (
                        (SELECT c.seq, c.id, c.state, NULL::text AS removed FROM cx.customers c
                         WHERE c.territory = ANY(\(territories)::text[]) AND c.seq > \(cursor)
                         ORDER BY c.seq LIMIT \(limit + 1))
                        UNION ALL
                        (SELECT a.seq, a.id, a.state, NULL::text FROM cx.activities a JOIN cx.customers c ON c.id = a.customer_id
                         WHERE c.territory = ANY(\(territories)::text[]) AND a.seq > \(cursor)
                         ORDER BY a.seq LIMIT \(limit + 1))
                        UNION ALL
                        (SELECT e.seq, NULL::uuid, NULL::jsonb, e.customer_id::text FROM cx.territory_exits e
                         WHERE e.territory = ANY(\(territories)::text[]) AND e.seq > \(cursor)
                           AND NOT EXISTS (
                               SELECT 1 FROM cx.customers c
                               WHERE c.id = e.customer_id AND c.territory = ANY(\(territories)::text[]))
                         ORDER BY e.seq LIMIT \(limit + 1))
                        UNION ALL
                        (SELECT x.seq, NULL::uuid, NULL::jsonb, x.activity_id::text FROM cx.activity_exits x
                         WHERE x.territory = ANY(\(territories)::text[]) AND x.seq > \(cursor)
                           AND NOT EXISTS (
                               SELECT 1 FROM cx.activities a JOIN cx.customers c ON c.id = a.customer_id
                               WHERE a.id = x.activity_id AND c.territory = ANY(\(territories)::text[]))
                         ORDER BY x.seq LIMIT \(limit + 1))
                        ORDER BY seq LIMIT \(limit + 1)
                    ) AS changes
                    LEFT JOIN (SELECT DISTINCT e FROM unnest(\(echoIDs)::uuid[]) AS e) AS echo(id) ON echo.id = changes.id
                    ) AS page
                    ORDER BY seq
                    """, preparedAs: "cx_pull_scoped")
            }
            var page = Page(states: [], lastSequence: cursor, hasMore: rows.count > limit)
            page.states.reserveCapacity(min(rows.count, limit))
            for row in rows.prefix(limit) {
                if try row.decode("echoed", as: Bool.self) {
                    page.echoes += 1
                } else if let removed = try row.decode("removed", as: String?.self) {
                    page.removed.append(removed)
                } else {
                    page.states.append(try row.decode("state", as: String.self))
                }
                page.lastSequence = try row.decode("seq", as: Int64.self)
            }
            return page
        }
    }
}
