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
/// written as a push would write it (``PushWrites``: typed columns, audit rows, territory
/// exits, re-sequenced activities), with dots of the importing user's server replica.
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
/// chunk's refs name, states are built in Swift, and ``PushWrites`` writes a thousand rows per
/// statement. The sequence lock is held from the first read to the commit, as for a push, so
/// syncs wait for the import (docs/benchmarks.md, "ERP import": about 1,500 new rows a second
/// on a busy 2-core machine, bound by the push path's writes).
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
            // Every lookup here has an index, but a table that grows by a million rows inside
            // this transaction keeps the statistics of its start: an empty table's plan would scan
            // the whole table for each chunk. Indexes only, then.
            try connection.query("SET LOCAL enable_seqscan = off")
            var claim = dryRun ? try ImportWriters.peek(writer, on: connection) : try ImportWriters.claim(writer, on: connection)
            var summary = ImportSummary(kind: file.kind, rows: file.rows.count, dryRun: dryRun, replica: claim.replicaID)
            var author = Author(replica: claim.replicaID, user: claim.replicaID, at: .now(), counterFloor: claim.counter)
            let storeWriter = RecordStore.Writer(userID: nil, userName: claim.replicaID, replicaID: claim.replicaID, scope: .unrestricted)
            var problems = Problems(limit: problemLimit)
            let customers = try resolveCustomers(on: connection)

            var start = 0
            while start < file.rows.count {
                let chunk = file.rows[start..<min(start + chunkSize, file.rows.count)]
                let stored = try storedRecords(named: chunk.compactMap(\.ref), on: connection)
                var writes = PushWrites()
                for row in chunk {
                    do throws(ImportProblem) {
                        let matches = row.ref.map { stored[$0] ?? [] } ?? []
                        guard matches.count <= 1 else {
                            throw ImportProblem(
                                line: row.line,
                                message: "ref '\(row.ref ?? "")' names \(matches.count) stored \(file.kind.recordKind.rawValue)s (\(matches.map(\.id).joined(separator: ", "))); give them distinct references first")
                        }
                        if let key = row.customer, let failure = customers.failures[key] {
                            throw ImportProblem(line: row.line, message: failure)
                        }
                        let customerID = row.customer.flatMap { customers.ids[$0] }
                        if let previous = matches.first {
                            let updated = try update(previous, with: row, customerID: customerID, by: &author)
                            if updated == previous {
                                summary.unchanged += 1
                            } else {
                                if let refusal = RecordStore.mergedRefusal(updated) { throw ImportProblem(line: row.line, message: refusal.message) }
                                writes.add(updated, replacing: previous)
                                summary.updated += 1
                            }
                        } else {
                            let state = try create(row, customerID: customerID, by: &author)
                            writes.add(state, replacing: nil)
                            summary.created += 1
                        }
                    } catch {
                        problems.add(error)
                    }
                }
                // After the first bad row nothing more is written, but every row is still checked.
                if problems.isEmpty && !dryRun { try writes.apply(by: storeWriter, on: connection) }
                start += chunk.count
                progress?(start)
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

    /// A stored record with the row's values written where they are new.
    private func update(
        _ previous: RecordState, with row: ImportRow, customerID: String?, by author: inout Author
    ) throws(ImportProblem) -> RecordState {
        if file.kind == .payments, previous.displayedValue("type") != "purchase" {
            throw ImportProblem(
                line: row.line,
                message: "ref '\(row.ref ?? "")' is a \(previous.displayedValue("type") ?? "record") (\(previous.id)), not a purchase; a payment marks a purchase paid")
        }
        var state = previous
        func has(_ field: String, _ value: String) -> Bool {
            state.register(field)?.entries.contains { $0.value == value } ?? false
        }
        do throws(RecordValidationError) {
            if let customerID, !has("customer_id", customerID) {
                try state.set("customer_id", to: customerID, by: author)
            }
            for (field, value) in zip(file.fields, row.values) {
                guard let value, !has(field, value) else { continue }
                try state.set(field, to: value, by: author)
            }
            for tag in row.tags where !state.tagNames.contains(tag) {
                try state.addTag(tag, by: author)
            }
        } catch {
            throw ImportProblem(line: row.line, message: error.description)
        }
        author.counterFloor = max(author.counterFloor, state.clock[author.replica])
        return state
    }

    /// A new record from the row.
    private func create(_ row: ImportRow, customerID: String?, by author: inout Author) throws(ImportProblem) -> RecordState {
        if file.kind == .payments {
            throw ImportProblem(line: row.line, message: "no purchase has ref '\(row.ref ?? "")'; a payment marks a stored purchase paid")
        }
        var fields: [String: String?] = [:]
        for (field, value) in zip(file.fields, row.values) where value != nil { fields[field] = value }
        if let ref = row.ref { fields["reference"] = ref }
        if file.kind == .activities {
            guard let customerID else {
                throw ImportProblem(
                    line: row.line,
                    message: row.ref == nil
                        ? "a new activity needs its customer: fill customer_id, customer_ref or customer_email"
                        : "no activity has ref '\(row.ref ?? "")', and a new one needs its customer: fill customer_id, customer_ref or customer_email")
            }
            fields["customer_id"] = customerID
            // A purchase is due 30 days after it was made unless the file says otherwise (as `cx purchase`).
            if fields["type"] == "purchase", fields["due_on"] == nil, let on = fields["on"].flatMap({ $0 }).flatMap({ CalendarDate($0) }) {
                fields["due_on"] = on.adding(days: 30).description
            }
        }
        do throws(RecordValidationError) {
            let state = try RecordState.new(kind: file.kind.recordKind, fields: fields, tags: row.tags, by: author)
            author.counterFloor = max(author.counterFloor, state.clock[author.replica])
            return state
        } catch {
            throw ImportProblem(line: row.line, message: error.description)
        }
    }

    /// The live records of this kind whose `reference` is one of `refs`, by reference.
    ///
    /// Read without row locks: every writer of records (pushes, SQL writes) holds the sequence
    /// lock this import holds, and a dry run writes nothing.
    private func storedRecords(named refs: [String], on connection: PostgresConnection) throws -> [String: [RecordState]] {
        guard !refs.isEmpty else { return [:] }
        let table = RecordStore.table(of: file.kind.recordKind)
        let rows = try connection.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT reference, state::text AS state FROM \(table)
                    WHERE reference = ANY($1::text[]) AND NOT deleted AND reference IS NOT NULL ORDER BY id
                    """,
                binds: [PostgresArrayLiteral.text(refs)]))
        var stored: [String: [RecordState]] = [:]
        for row in rows {
            let state = try RecordState(jsonString: try row.decode("state", as: String.self), values: .stored)
            stored[try row.decode("reference", as: String.self), default: []].append(state)
        }
        return stored
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
                    unsafeSQL: "SELECT id::text AS id FROM cx.customers WHERE id = ANY($1::uuid[]) AND NOT deleted",
                    binds: [PostgresArrayLiteral.text(ids)]))
            {
                let id = try row.decode("id", as: String.self)
                found[.id(id)] = [id]
            }
        }
        if !refs.isEmpty {
            for row in try connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT reference, id::text AS id FROM cx.customers
                        WHERE reference = ANY($1::text[]) AND NOT deleted AND reference IS NOT NULL ORDER BY id
                        """,
                    binds: [PostgresArrayLiteral.text(refs)]))
            {
                found[.ref(try row.decode("reference", as: String.self)), default: []].append(try row.decode("id", as: String.self))
            }
        }
        if !emails.isEmpty {
            for row in try connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT k.email, c.id::text AS id FROM unnest($1::text[]) AS k(email)
                        JOIN cx.customers AS c ON lower(c.email) = lower(k.email) AND NOT c.deleted AND c.email IS NOT NULL
                        ORDER BY c.id
                        """,
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

/// The customers an activity file names: their ids, or why a name finds none (or several).
struct CustomerResolution {
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
