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
    /// exactly as sent and that have not changed since are left out; so are the rows still
    /// numbered as `receipts` say (the client's earlier push-only requests left them as sent,
    /// ``EchoSequences``). Left-out states do not count toward `limit`, and the cursor moves
    /// past them: a sync that pushed many records does not page through its own writes.
    func pull(
        after cursor: Int64, limit: Int, scope: AccessScope = .unrestricted, omitting echoes: Echoes? = nil,
        receipts: [EchoSequences] = []
    ) async throws -> Page {
        try await pool.withConnection { connection in
            let rows: PostgresRows
            // An echo's state is never printed: PostgreSQL skips the jsonb-to-text of the row. The
            // echoes are joined (hashed), not tested with `= ANY` (a scan of the array per row:
            // 7 ms for a page after a 1,000-record push against 2 ms joined, measured); receipts
            // are ranges of sequence numbers, tested against the row's own.
            let echoIDs = PostgresArrayLiteral.text(echoes?.ids ?? [])
            let echoesThrough = echoes?.throughSequence ?? 0
            let receiptRanges = EchoSequences.multirange(receipts)
            // The scans start past the receipts' numbers that follow the cursor without a gap (a
            // sync's pushes ahead are numbered one after another), and read enough rows to find
            // `limit + 1` others even if every echo comes first.
            let start = EchoSequences.skipping(receipts, after: cursor)
            // Past `maxEchoScan` receipted rows a page may come out short (`has_more` still
            // says so): a request never makes PostgreSQL read more than that beside its page.
            let receipted = min(receipts.reduce(0) { $0 + $1.count(after: start) }, Self.maxEchoScan)
            let scanned = limit + 1 + (echoes?.ids.count ?? 0) + Int(receipted)
            if scope.isUnrestricted {
                rows = try connection.query(
                    """
                    SELECT seq, echoed, CASE WHEN echoed THEN NULL ELSE state::text END AS state, NULL::text AS removed FROM (
                        SELECT changes.seq, changes.state, ((changes.seq <= \(echoesThrough) AND echo.id IS NOT NULL) OR changes.seq <@ \(receiptRanges)::int8multirange) AS echoed FROM (
                            (SELECT seq, id, state FROM cx.customers WHERE seq > \(start) ORDER BY seq LIMIT \(scanned))
                            UNION ALL
                            (SELECT seq, id, state FROM cx.activities WHERE seq > \(start) ORDER BY seq LIMIT \(scanned))
                            ORDER BY seq LIMIT \(scanned)
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
                    SELECT changes.seq, changes.state, changes.removed, ((changes.seq <= \(echoesThrough) AND echo.id IS NOT NULL) OR changes.seq <@ \(receiptRanges)::int8multirange) AS echoed FROM (
                        (SELECT c.seq, c.id, c.state, NULL::text AS removed FROM cx.customers c
                         WHERE c.territory = ANY(\(territories)::text[]) AND c.seq > \(start)
                         ORDER BY c.seq LIMIT \(scanned))
                        UNION ALL
                        (SELECT a.seq, a.id, a.state, NULL::text FROM cx.activities a JOIN cx.customers c ON c.id = a.customer_id
                         WHERE c.territory = ANY(\(territories)::text[]) AND a.seq > \(start)
                         ORDER BY a.seq LIMIT \(scanned))
                        UNION ALL
                        (SELECT e.seq, NULL::uuid, NULL::jsonb, e.customer_id::text FROM cx.territory_exits e
                         WHERE e.territory = ANY(\(territories)::text[]) AND e.seq > \(start)
                           AND NOT EXISTS (
                               SELECT 1 FROM cx.customers c
                               WHERE c.id = e.customer_id AND c.territory = ANY(\(territories)::text[]))
                         ORDER BY e.seq LIMIT \(scanned))
                        UNION ALL
                        (SELECT x.seq, NULL::uuid, NULL::jsonb, x.activity_id::text FROM cx.activity_exits x
                         WHERE x.territory = ANY(\(territories)::text[]) AND x.seq > \(start)
                           AND NOT EXISTS (
                               SELECT 1 FROM cx.activities a JOIN cx.customers c ON c.id = a.customer_id
                               WHERE a.id = x.activity_id AND c.territory = ANY(\(territories)::text[]))
                         ORDER BY x.seq LIMIT \(scanned))
                        ORDER BY seq LIMIT \(scanned)
                    ) AS changes
                    LEFT JOIN (SELECT DISTINCT e FROM unnest(\(echoIDs)::uuid[]) AS e) AS echo(id) ON echo.id = changes.id
                    ) AS page
                    ORDER BY seq
                    """, preparedAs: "cx_pull_scoped")
            }
            var page = Page(states: [], lastSequence: start, hasMore: rows.count >= scanned)
            page.states.reserveCapacity(min(rows.count, limit))
            var delivered = 0
            for row in rows {
                if try row.decode("echoed", as: Bool.self) {
                    page.echoes += 1
                } else if delivered == limit {
                    page.hasMore = true
                    break
                } else {
                    delivered += 1
                    if let removed = try row.decode("removed", as: String?.self) {
                        page.removed.append(removed)
                    } else {
                        page.states.append(try row.decode("state", as: String.self))
                    }
                }
                page.lastSequence = try row.decode("seq", as: Int64.self)
            }
            return page
        }
    }

    /// The most rows named by receipts one pull reads beside its page.
    static let maxEchoScan: Int64 = 50_000

    /// The sequence numbers of the records `echoes` names that are still as that push left
    /// them (numbered at most its ``Echoes/throughSequence``): the rows a receipt stands for.
    func sequences(of echoes: Echoes) async throws -> [Int64] {
        guard !echoes.ids.isEmpty else { return [] }
        let ids = PostgresArrayLiteral.text(echoes.ids)
        return try await pool.withConnection { connection in
            try connection.query(
                """
                SELECT seq FROM cx.customers WHERE id = ANY(\(ids)::uuid[]) AND seq <= \(echoes.throughSequence)
                UNION ALL
                SELECT seq FROM cx.activities WHERE id = ANY(\(ids)::uuid[]) AND seq <= \(echoes.throughSequence)
                """
            ).map { try $0.decode("seq", as: Int64.self) }
        }
    }
}
