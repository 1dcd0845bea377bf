import CXModel

/// What an import file holds: customers, activities, or payments of purchases.
enum ImportKind: String, Sendable, CaseIterable {
    case customers
    case activities
    case payments

    /// The kind of record the rows write.
    var recordKind: RecordKind { self == .customers ? .customer : .activity }
}

/// A bad row (or header), by the line it starts on; the file is not imported.
struct ImportProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// Physical line number (the header is line 1).
    var line: Int
    var message: String
    var description: String { "line \(line): \(message)" }
}

/// How an activity row names its customer.
enum CustomerKey: Hashable, Sendable {
    /// `customer_id`: the record id.
    case id(String)
    /// `customer_ref`: the customer's `reference` (the ERP's customer number).
    case ref(String)
    /// `customer_email`: the customer's email, compared without regard to case.
    case email(String)

    /// The column and value, for messages.
    var description: String {
        switch self {
        case .id(let id): "customer_id \(id)"
        case .ref(let ref): "customer_ref '\(ref)'"
        case .email(let email): "customer_email '\(email)'"
        }
    }
}

/// One valid data row: its values checked and in the Model's canonical form.
struct ImportRow: Sendable {
    var line: Int
    /// The external key (`ref` column, the record's `reference` field), trimmed; `nil` when
    /// the cell is empty: the row is always a new record.
    var ref: String?
    /// Non-empty cells by field (aligned with ``ImportFile/fields``), canonical values.
    var values: [String?]
    /// Tags to add (never removed by an import).
    var tags: [String]
    /// Activities: the customer the row names, if any.
    var customer: CustomerKey?
}

/// A CSV file parsed and validated for `cx-server import`: every cell checked with the Model's
/// rules (``Schema``), before anything is read from the database.
///
/// Columns map to the Model's fields by name, so a field the Model gains is importable without
/// changes here. Special columns: `ref` (the `reference` field, the external key), `tags`
/// (separated by `;`), and for activities `customer_id`, `customer_ref` or `customer_email`.
/// Empty cells leave the stored value alone (an import never unsets a field).
struct ImportFile: Sendable {
    let kind: ImportKind
    /// The fields the columns write, in the order of ``ImportRow/values``.
    let fields: [String]
    var rows: [ImportRow]

    /// Special columns of every kind.
    static let refColumns: Set<String> = ["ref", "reference"]
    static let customerColumns: [String: @Sendable (String) -> CustomerKey] = [
        "customer_id": { .id($0) }, "customer_ref": { .ref($0) }, "customer_email": { .email($0) },
    ]

    /// The columns a file of `kind` may have, for messages.
    static func knownColumns(_ kind: ImportKind) -> String {
        switch kind {
        case .customers:
            return (["ref"] + Schema.customerFields.map(\.name).filter { $0 != "reference" } + ["tags", "extra.<key>"]).joined(separator: ", ")
        case .activities:
            return (["ref", "customer_id", "customer_ref", "customer_email"]
                + Schema.activityFields.map(\.name).filter { $0 != "reference" && $0 != "customer_id" } + ["tags", "extra.<key>"])
                .joined(separator: ", ")
        case .payments:
            return "ref, paid_on"
        }
    }

    /// Parses and validates `bytes`. Any problem means nothing is imported (``ImportFile/rows``
    /// then holds the valid rows, none after a problem with the header); at most
    /// `problemLimit` are collected (the count stays exact in `problemCount`).
    static func parse(
        _ bytes: [UInt8], as kind: ImportKind, problemLimit: Int = 200, progress: ((Double) -> Void)? = nil
    ) -> (file: ImportFile, problems: [ImportProblem], problemCount: Int) {
        var problems: [ImportProblem] = []
        var problemCount = 0
        func report(_ line: Int, _ message: String) {
            problemCount += 1
            if problems.count < problemLimit { problems.append(ImportProblem(line: line, message: message)) }
        }
        var reader = CSVRecordReader(bytes)
        let empty = ImportFile(kind: kind, fields: [], rows: [])
        let header: [String]
        do {
            guard let first = try reader.next() else {
                return (empty, [ImportProblem(line: 1, message: "the file is empty; expected a header row such as \(knownColumns(kind))")], 1)
            }
            header = first.cells
        } catch {
            return (empty, [ImportProblem(line: error.line, message: error.message)], 1)
        }

        // The header: each column is the external key, a customer lookup, tags, or a field.
        enum Column {
            case ref, tags, customer((String) -> CustomerKey), field(Int), ignored
        }
        var columns: [Column] = []
        var fields: [String] = []
        var seen: [String: String] = [:]
        for cell in header {
            var name = cell.trimmingWhitespace
            if !name.hasPrefix(Schema.extraPrefix) { name = name.lowercased() }
            let canonical = refColumns.contains(name) ? "ref" : name
            if let other = seen[canonical] {
                report(1, other == name ? "column '\(name)' appears twice" : "columns '\(other)' and '\(name)' are the same column")
                columns.append(.ignored)
                continue
            }
            seen[canonical] = name
            if canonical == "ref" {
                columns.append(.ref)
            } else if kind == .payments {
                if name == "paid_on" {
                    columns.append(.field(fields.count))
                    fields.append(name)
                } else {
                    report(1, "unknown column '\(name)': a payment file has the columns ref, paid_on")
                    columns.append(.ignored)
                }
            } else if name == "tags" {
                columns.append(.tags)
            } else if kind == .activities, let key = customerColumns[name] {
                columns.append(.customer(key))
            } else {
                do {
                    _ = try Schema.type(of: name, in: kind.recordKind)
                    columns.append(.field(fields.count))
                    fields.append(name)
                } catch {
                    report(1, "unknown column '\(name)': use one of \(knownColumns(kind))")
                    columns.append(.ignored)
                }
            }
        }
        if kind == .payments {
            for required in ["ref", "paid_on"] where seen[required] == nil {
                report(1, "no '\(required)' column: a payment file has the columns ref, paid_on")
            }
        }
        guard problems.isEmpty else { return (empty, problems, problemCount) }

        var rows: [ImportRow] = []
        var refs: [String: Int] = [:]
        var counted = 0
        while true {
            let record: (line: Int, cells: [String])
            do {
                guard let next = try reader.next() else { break }
                record = next
            } catch {
                report(error.line, error.message)
                break
            }
            counted += 1
            if counted % 16384 == 0 { progress?(reader.fractionRead) }
            let (line, cells) = record
            if cells.allSatisfy({ $0.trimmingWhitespace.isEmpty }) { continue }
            guard cells.count == columns.count else {
                report(line, "expected \(columns.count) fields, found \(cells.count)")
                continue
            }
            var row = ImportRow(line: line, ref: nil, values: Array(repeating: nil, count: fields.count), tags: [], customer: nil)
            var bad = false
            for (column, cell) in zip(columns, cells) {
                switch column {
                case .ignored:
                    continue
                case .ref:
                    let ref = cell.trimmingWhitespace
                    guard !ref.isEmpty else { continue }
                    do {
                        row.ref = try Schema.normalize(ref, for: "reference", in: kind.recordKind)
                    } catch {
                        report(line, "ref: \(error.message)")
                        bad = true
                    }
                case .tags:
                    for piece in cell.split(separator: ";") where !String(piece).trimmingWhitespace.isEmpty {
                        do {
                            row.tags.append(try Schema.normalizeTag(String(piece)))
                        } catch {
                            report(line, error.description)
                            bad = true
                        }
                    }
                case .customer(let make):
                    let value = cell.trimmingWhitespace
                    guard !value.isEmpty else { continue }
                    guard row.customer == nil else {
                        report(line, "the customer is named twice: fill one of customer_id, customer_ref and customer_email")
                        bad = true
                        continue
                    }
                    switch make(value) {
                    case .id:
                        guard let id = RecordID.canonical(value) else {
                            report(line, "customer_id: '\(value)' is not a record id (a UUID)")
                            bad = true
                            continue
                        }
                        row.customer = .id(id)
                    case .email:
                        do {
                            row.customer = .email(try Schema.normalize(value, for: "email", in: .customer) ?? value)
                        } catch {
                            report(line, "customer_email: \(error.message)")
                            bad = true
                        }
                    case .ref(let ref):
                        row.customer = .ref(UnicodeNormalization.nfc(ref))
                    }
                case .field(let index):
                    guard !cell.isEmpty else { continue }
                    do {
                        row.values[index] = try Schema.normalize(cell, for: fields[index], in: kind.recordKind)
                    } catch {
                        report(line, error.description)
                        bad = true
                    }
                }
            }
            if kind == .payments {
                if row.ref == nil { report(line, "ref: a payment names the purchase it pays by its ref"); bad = true }
                if (row.values.first ?? nil) == nil { report(line, "paid_on: a payment needs the date it was paid (YYYY-MM-DD)"); bad = true }
            }
            if let ref = row.ref {
                if let other = refs[ref] {
                    report(line, "ref '\(ref)' already appears on line \(other); an import writes each record once")
                    bad = true
                } else {
                    refs[ref] = line
                }
            }
            if !bad { rows.append(row) }
        }
        progress?(1)
        // The valid rows even when others are bad: the import checks them against the database
        // too (and writes nothing), so one run reports every problem.
        return (ImportFile(kind: kind, fields: fields, rows: rows), problems, problemCount)
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
