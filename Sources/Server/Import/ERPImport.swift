import CXModel
import CXPostgres

/// What an import did (or, in a dry run, would do).
struct ImportSummary: Sendable, Equatable {
    var kind: ImportKind
    /// Data rows in the file.
    var rows = 0
    /// New records.
    var created = 0
    /// Stored records that changed.
    var updated = 0
    /// Rows that matched a stored record and changed nothing.
    var unchanged = 0
    var dryRun = false
    /// The replica the writes carry (`import:<user>`).
    var replica = ""
}

/// Rows the database showed to be bad (an unknown customer, a ref naming two records, a new
/// record missing what its kind requires): nothing was written.
struct ImportRejected: Error, Sendable {
    var problems: [ImportProblem]
    /// All problems, including those beyond the list's limit.
    var count: Int
}

/// Loads a validated ``ImportFile`` into storage: one transaction, all or nothing, each record
/// written as a push writes it (``RecordWriteSet``: new records and changes in place by COPY,
/// moves by upsert with their exits and re-sequenced activities), with dots of the importing
/// user's server replica.
///
/// **Idempotent on `ref`.** A row whose `ref` names a stored (live) record updates it: each
/// non-empty cell whose value is not already one of the field's values is written as a new
/// entry superseding what the server holds, tags not yet there are added, and a row that adds
/// nothing writes nothing. A value the server holds as one side of a conflict counts as there:
/// running an import again never settles a conflict behind anyone's back. A laptop's offline
/// edit of a field the import writes becomes a conflict at its next sync — the merge sees two
/// concurrent writes — never a silent overwrite. Rows without `ref` are always new records.
///
/// **Speed.** Rows are worked through in chunks: one statement reads the stored records the
/// chunk's refs name, ``ImportChunkBuilder`` builds and encodes the states on another thread,
/// and the connection writes them — new records with two `COPY`s (rows, audit rows) and
/// sequence numbers taken in one statement. While chunk k is written, chunk k+1 is built, so
/// PostgreSQL and the Swift work overlap. The sequence lock is held from the first read to the
/// commit, as for a push, so syncs wait for the import and no pull cursor passes a change that
/// commits later (docs/benchmarks.md, "ERP import").
struct ERPImport {
    let file: ImportFile
    /// The OS user importing: the replica is `import:<writer>`.
    let writer: String
    var dryRun = false
    var chunkSize = 5000
    var problemLimit = 200
    /// Called after each chunk with the rows done so far.
    var progress: ((Int) -> Void)?

    /// Runs the import on `connection` (not inside a transaction).
    /// - Throws: ``ImportRejected`` when rows are bad (nothing written), or a database error.
    func run(on connection: PostgresConnection) throws -> ImportSummary {
        try connection.transaction { connection in
            if !dryRun { try RecordStore.takeSequenceLock(on: connection) }
            // A table that grows by a million rows inside this transaction keeps the statistics
            // of its start (none, for a first load). The lookups probe an index once per key
            // (``probeSQL``) whatever the estimates say; the writes' joins use indexes only.
            // JIT never pays for statements this short, and the estimates without statistics
            // are large enough to trigger it (120 ms of compiling per chunk, measured).
            try connection.query("SET LOCAL enable_seqscan = off")
            try connection.query("SET LOCAL jit = off")
            var claim = dryRun ? try ImportWriters.peek(writer, on: connection) : try ImportWriters.claim(writer, on: connection)
            var summary = ImportSummary(kind: file.kind, rows: file.rows.count, dryRun: dryRun, replica: claim.replicaID)
            var author = Author(replica: claim.replicaID, user: claim.replicaID, at: .now(), counterFloor: claim.counter)
            let storeWriter = RecordStore.Writer(userID: nil, userName: claim.replicaID, replicaID: claim.replicaID, scope: .unrestricted)
            var problems = Problems(limit: problemLimit)
            let builder = ImportChunkBuilder(file: file, customers: try resolveCustomers(on: connection), writer: storeWriter)
            let chunks = stride(from: 0, to: file.rows.count, by: max(chunkSize, 1)).map { $0..<min($0 + max(chunkSize, 1), file.rows.count) }

            // Chunk k+1 is built while chunk k is written. Its stored records are read before
            // chunk k is written: refs are distinct within a file (ImportFile), so no write of
            // chunk k changes what chunk k+1 finds. Dots are minted in row order all the same:
            // each build starts from the author the previous build ended with.
            var building: OffThread<ImportChunk>?
            if let first = chunks.first {
                let stored = try storedRecords(named: first, on: connection)
                let start = author
                building = OffThread { try builder.build(first, stored: stored, by: start) }
            }
            for (index, range) in chunks.enumerated() {
                let following = index + 1 < chunks.count ? chunks[index + 1] : nil
                let storedNext = try following.map { try storedRecords(named: $0, on: connection) }
                guard let chunk = try building?.value() else { break }
                author = chunk.author
                if let following, let storedNext {
                    let start = author
                    building = OffThread { try builder.build(following, stored: storedNext, by: start) }
                }
                summary.created += chunk.created
                summary.updated += chunk.updated
                summary.unchanged += chunk.unchanged
                for problem in chunk.problems { problems.add(problem) }
                // After the first bad row nothing more is written, but every row is still checked.
                if problems.isEmpty && !dryRun {
                    try chunk.writes.apply(on: connection)
                }
                progress?(range.upperBound)
            }
            guard problems.isEmpty else {
                throw ImportRejected(problems: problems.list.sorted { $0.line < $1.line }, count: problems.count)
            }
            if !dryRun {
                claim.counter = author.counterFloor
                try ImportWriters.save(claim, on: connection)
                // Fresh statistics for the syncs and lookups after a large load (autovacuum
                // would get there, later).
                if summary.created + summary.updated >= 10_000 {
                    try connection.query(PostgresQuery(unsafeSQL: "ANALYZE \(RecordStore.table(of: file.kind.recordKind)), cx.changes"))
                }
            }
            return summary
        }
    }

    /// The states (JSON, not yet decoded: the builder decodes them off the connection) of the
    /// live records of this kind whose `reference` is one of the refs of `rows`, by reference.
    ///
    /// Read without row locks: every writer of records (pushes, SQL writes) holds the sequence
    /// lock this import holds, and a dry run writes nothing.
    private func storedRecords(named rows: Range<Int>, on connection: PostgresConnection) throws -> [(reference: String, state: String)] {
        let refs = file.rows[rows].compactMap(\.ref)
        guard !refs.isEmpty else { return [] }
        let table = RecordStore.table(of: file.kind.recordKind)
        let found = try connection.query(
            PostgresQuery(
                unsafeSQL: Self.probeSQL(
                    keys: "$1::text[]", key: "reference", select: "s.reference, s.state::text AS state",
                    from: table, matching: "t.reference = k.reference AND NOT t.deleted AND t.reference IS NOT NULL"),
                binds: [PostgresArrayLiteral.text(refs)]))
        return try found.map { (try $0.decode("reference", as: String.self), try $0.decode("state", as: String.self)) }
    }

    /// The customer id of every customer the rows name; unknown or ambiguous ones are problems.
    private func resolveCustomers(on connection: PostgresConnection) throws -> CustomerResolution {
        guard file.kind == .activities else { return CustomerResolution() }
        var ids: Set<String> = [], refs: Set<String> = [], emails: Set<String> = []
        for row in file.rows {
            switch row.customer {
            case .id(let id): ids.insert(id)
            case .ref(let ref): refs.insert(ref)
            case .email(let email): emails.insert(email)
            case nil: break
            }
        }
        var found: [CustomerKey: [String]] = [:]
        if !ids.isEmpty {
            for row in try connection.query(
                PostgresQuery(
                    unsafeSQL: Self.probeSQL(
                        keys: "$1::uuid[]", key: "id", select: "s.id::text AS id", from: "cx.customers",
                        matching: "t.id = k.id AND NOT t.deleted"),
                    binds: [PostgresArrayLiteral.text(ids)]))
            {
                let id = try row.decode("id", as: String.self)
                found[.id(id)] = [id]
            }
        }
        if !refs.isEmpty {
            for row in try connection.query(
                PostgresQuery(
                    unsafeSQL: Self.probeSQL(
                        keys: "$1::text[]", key: "reference", select: "s.reference, s.id::text AS id", from: "cx.customers",
                        matching: "t.reference = k.reference AND NOT t.deleted AND t.reference IS NOT NULL"),
                    binds: [PostgresArrayLiteral.text(refs)]))
            {
                found[.ref(try row.decode("reference", as: String.self)), default: []].append(try row.decode("id", as: String.self))
            }
        }
        if !emails.isEmpty {
            for row in try connection.query(
                PostgresQuery(
                    unsafeSQL: Self.probeSQL(
                        keys: "$1::text[]", key: "email", select: "k.email, s.id::text AS id", from: "cx.customers",
                        matching: "lower(t.email) = lower(k.email) AND NOT t.deleted AND t.email IS NOT NULL"),
                    binds: [PostgresArrayLiteral.text(emails)]))
            {
                found[.email(try row.decode("email", as: String.self)), default: []].append(try row.decode("id", as: String.self))
            }
        }
        var resolved = CustomerResolution()
        for (key, matches) in found where matches.count == 1 { resolved.ids[key] = matches[0] }
        for key in ids.map(CustomerKey.id) + refs.map(CustomerKey.ref) + emails.map(CustomerKey.email) {
            let matches = found[key] ?? []
            if matches.isEmpty {
                let hint = switch key {
                case .id: "no live customer has this id"
                case .ref: "no customer has this reference; import the customers first (cx-server import customers)"
                case .email: "no customer has this email address"
                }
                resolved.failures[key] = "\(key.description): \(hint)"
            } else if matches.count > 1 {
                resolved.failures[key] =
                    "\(key.description) names \(matches.count) customers (\(matches.joined(separator: ", "))); use customer_id, or merge the duplicates first"
            }
        }
        return resolved
    }
}

extension ERPImport {
    /// A lookup of the rows of `table` (as `t`) `matching` each key of the array `keys` (as
    /// `k.<key>`), selecting from the match `s` (every column of `t`) and `k`, in id order.
    ///
    /// Written as one probe per key (a `LATERAL` subquery the planner cannot flatten, `OFFSET
    /// 0`) rather than `key = ANY(keys)`: without statistics — a first load, or a table grown
    /// inside the import's transaction — PostgreSQL estimates that `= ANY` of thousands of keys
    /// matches every row, and scanned the whole table for each chunk (a parallel bitmap scan of
    /// another index, then a filter): quadratic, 4,300 rows/s at 1M rows. A probe per key
    /// uses the key's index whatever the estimates say.
    static func probeSQL(keys: String, key: String, select: String, from table: String, matching condition: String) -> String {
        """
        SELECT \(select) FROM unnest(\(keys)) AS k(\(key))
        CROSS JOIN LATERAL (SELECT t.* FROM \(table) AS t WHERE \(condition) OFFSET 0) AS s
        ORDER BY s.id
        """
    }
}

/// The customers an activity file names: their ids, or why a name finds none (or several).
struct CustomerResolution: Sendable {
    var ids: [CustomerKey: String] = [:]
    var failures: [CustomerKey: String] = [:]
}

/// The problems found so far: the first `limit` kept, all counted.
struct Problems {
    let limit: Int
    private(set) var list: [ImportProblem] = []
    private(set) var count = 0

    init(limit: Int) {
        self.limit = limit
    }

    var isEmpty: Bool { count == 0 }

    mutating func add(_ problem: ImportProblem) {
        count += 1
        if list.count < limit { list.append(problem) }
    }
}
