import CSV
import CXModel
import Foundation

/// Reading and writing customers as CSV.
///
/// Columns: `id` (optional: updates that record, or creates it with that id), the customer
/// fields (`name`, `company`, `email`, `phone`, `address`, `city`, `country`, `territory`,
/// `owner`, `segment`, `notes`), `tags` (separated by `;`) and `extra.<key>`. Empty cells mean
/// "not set". A UTF-8 byte order mark is accepted; quoted cells may hold commas, quotes and
/// newlines.
public enum CustomerCSV {
    /// One valid data row.
    public struct Row: Sendable {
        /// Physical line number where the row starts (the header is line 1).
        public var line: Int
        public var id: String?
        public var fields: [String: String]
        public var tags: [String]
    }

    /// A row-level problem, by line number.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// The fixed export columns before `tags` and `extra.*`.
    public static let standardColumns = ["id"] + Schema.customerFields.map(\.name)

    /// Parses and validates a CSV file's bytes. Rows that fail are reported as problems; the
    /// caller imports nothing when there is any.
    public static func parse(_ bytes: [UInt8]) -> (rows: [Row], problems: [Problem]) {
        var bytes = bytes[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return ([], [Problem(line: 1, message: "the file is not UTF-8 text")])
        }
        guard !text.isEmpty else { return ([], [Problem(line: 1, message: "the file is empty; expected a header row such as name,email,tags")]) }
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: false)
        } catch {
            return ([], [Problem(line: 1, message: "cannot read CSV: \(error)")])
        }
        var problems: [Problem] = []
        var line = 1
        guard let rawHeader = reader.next() else {
            return ([], [Problem(line: 1, message: "no header row")])
        }
        line += physicalLines(rawHeader)
        // Header.
        var columns: [String] = []
        for cell in rawHeader {
            var name = cell.trimmingCharacters(in: " \t")
            if !name.hasPrefix(Schema.extraPrefix) { name = name.lowercased() }
            columns.append(name)
        }
        var seen: Set<String> = []
        for name in columns {
            if !seen.insert(name).inserted { problems.append(Problem(line: 1, message: "column '\(name)' appears twice")) }
            if name == "id" || name == "tags" { continue }
            do {
                _ = try Schema.type(of: name, in: .customer)
            } catch {
                problems.append(Problem(line: 1, message: "unknown column '\(name)': \(error.message)"))
            }
        }
        if !columns.contains("name") && !columns.contains("id") {
            problems.append(Problem(line: 1, message: "no 'name' column (every new customer needs a name)"))
        }
        if !problems.isEmpty { return ([], problems) }

        var rows: [Row] = []
        var ids: [String: Int] = [:]
        let validator = Author(replica: "csv-import", at: Timestamp(millisecondsSinceEpoch: 0))
        while let cells = reader.next() {
            let rowLine = line
            line += physicalLines(cells)
            if cells.allSatisfy({ $0.trimmingCharacters(in: " \t\r") .isEmpty }) { continue }
            guard cells.count == columns.count else {
                problems.append(Problem(line: rowLine, message: "expected \(columns.count) fields, found \(cells.count)"))
                continue
            }
            var row = Row(line: rowLine, id: nil, fields: [:], tags: [])
            for (name, cell) in zip(columns, cells) {
                switch name {
                case "id":
                    let text = cell.trimmingCharacters(in: " \t")
                    if text.isEmpty { continue }
                    guard let id = RecordID.canonical(text) else {
                        problems.append(Problem(line: rowLine, message: "id: '\(text)' is not a record id (a UUID)"))
                        continue
                    }
                    if let other = ids[id] {
                        problems.append(Problem(line: rowLine, message: "id \(id) already appears on line \(other)"))
                    }
                    ids[id] = rowLine
                    row.id = id
                case "tags":
                    row.tags = cell.split(separator: ";").map { String($0).trimmingCharacters(in: " \t") }.filter { !$0.isEmpty }
                default:
                    if !cell.isEmpty { row.fields[name] = cell }
                }
            }
            // Validate exactly as the model will when the row is written.
            do {
                if row.id == nil || row.fields["name"] != nil {
                    _ = try RecordState.new(kind: .customer, fields: row.fields, tags: row.tags, by: validator)
                } else {
                    var probe = try RecordState.new(kind: .customer, fields: ["name": "probe"], by: validator)
                    for (name, value) in row.fields { try probe.set(name, to: value, by: validator) }
                    for tag in row.tags { try probe.addTag(tag, by: validator) }
                }
            } catch {
                problems.append(Problem(line: rowLine, message: error.description))
                continue
            }
            rows.append(row)
        }
        if let error = reader.error {
            problems.append(Problem(line: line, message: "cannot read CSV: \(error)"))
        }
        return (rows, problems)
    }

    private static func physicalLines(_ cells: [String]) -> Int {
        1 + cells.reduce(0) { $0 + $1.reduce(0) { $0 + ($1 == "\n" || $1 == "\r\n" || $1 == "\r" ? 1 : 0) } }
    }

    /// The columns of an activity export: id, then every activity field (`customer_id`, `type`,
    /// `on`, `amount`, …).
    public static let activityColumns = ["id"] + Schema.activityFields.map(\.name)

    /// CSV text for `views`: `leading` columns (the customer import columns by default), then
    /// `tags`, then the extra columns sorted.
    public static func export(_ views: [RecordView], columns leading: [String] = standardColumns) throws -> [UInt8] {
        var extras: Set<String> = []
        for view in views {
            for field in view.fields where field.name.hasPrefix(Schema.extraPrefix) { extras.insert(field.name) }
        }
        let columns = leading + ["tags"] + extras.sorted()
        let stream = OutputStream(toMemory: ())
        let writer = try CSVWriter(stream: stream)
        try writer.write(row: columns)
        for view in views {
            var values: [String] = []
            for column in columns {
                switch column {
                case "id": values.append(view.id)
                case "tags": values.append(view.tags.joined(separator: ";"))
                default: values.append(view.value(column) ?? "")
                }
            }
            try writer.write(row: values)
        }
        writer.stream.close()
        guard let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data else { return [] }
        return Array(data) + [UInt8(ascii: "\n")]
    }
}
