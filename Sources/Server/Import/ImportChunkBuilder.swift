import CXModel
import CXPostgres

/// What one chunk of an import comes to: its writes, encoded and ready for the connection,
/// its counts, and the problems its rows showed.
struct ImportChunk: Sendable {
    /// The records the rows create or change, written as a push writes them.
    var writes: RecordWriteSet
    var created = 0
    var updated = 0
    var unchanged = 0
    var problems: [ImportProblem] = []
    /// The author after the chunk's writes (its counter floor the largest counter minted).
    var author: Author
}

/// Builds the states of an import's rows — new records from their cells, stored records with
/// the cells' new values written — and encodes them for writing. Needs no connection (the
/// stored records and the customers come in), so it runs on another thread than the one
/// writing (see ``ERPImport``).
struct ImportChunkBuilder: Sendable {
    let file: ImportFile
    let customers: CustomerResolution
    let writer: RecordStore.Writer

    /// The chunk of `rows`, given the stored states (JSON) the rows' refs name and the author
    /// the previous chunk ended with.
    /// - Throws: when a stored state cannot be decoded (bad rows are problems in the result).
    func build(_ rows: Range<Int>, stored storedJSON: [(reference: String, state: String)], by author: Author) throws -> ImportChunk {
        var stored: [String: [RecordState]] = [:]
        for (reference, json) in storedJSON {
            stored[reference, default: []].append(try RecordState(jsonString: json, values: .stored))
        }
        var author = author
        var chunk = ImportChunk(writes: RecordWriteSet(expecting: rows.count), author: author)
        for row in file.rows[rows] {
            do throws(ImportProblem) {
                let matches = row.ref.map { stored[$0] ?? [] } ?? []
                guard matches.count <= 1 else {
                    let ids = matches.map(\.id)
                    // Customers sharing a ref are most likely one customer twice (e.g. a merge
                    // whose deletion of the duplicate never reached the server).
                    let remedy = file.kind.recordKind == .customer && ids.count == 2
                        ? "merge them if they are one customer (SELECT cx.merge_customers('\(ids[0])', '\(ids[1])'), or `cx merge`), or give them distinct references"
                        : "give them distinct references"
                    throw ImportProblem(
                        line: row.line,
                        message: "ref '\(row.ref ?? "")' names \(matches.count) stored \(file.kind.recordKind.rawValue)s (\(ids.joined(separator: ", "))); \(remedy), then import again")
                }
                if let key = row.customer, let failure = customers.failures[key] {
                    throw ImportProblem(line: row.line, message: failure)
                }
                let customerID = row.customer.flatMap { customers.ids[$0] }
                if let previous = matches.first {
                    let updated = try update(previous, with: row, customerID: customerID, by: &author)
                    if updated == previous {
                        chunk.unchanged += 1
                    } else {
                        if let refusal = RecordStore.mergedRefusal(updated) { throw ImportProblem(line: row.line, message: refusal.message) }
                        chunk.writes.add(updated, replacing: previous, by: writer)
                        chunk.updated += 1
                    }
                } else {
                    chunk.writes.add(try create(row, customerID: customerID, by: &author), replacing: nil, by: writer)
                    chunk.created += 1
                }
            } catch {
                chunk.problems.append(error)
            }
        }
        chunk.author = author
        return chunk
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
}
