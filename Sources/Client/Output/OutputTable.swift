import CXModel

/// Rows — metrics per group or per period, cohorts, listed customers and activities — printed as an
/// aligned table, CSV or JSON (`--format`). Columns are named as the SQL functions name them,
/// so a CSV from the laptop and a result from the server read alike.
struct OutputTable {
    /// The column names.
    var columns: [String]
    /// The rows, each one value per column; `nil` is SQL's NULL (an empty CSV field, JSON `null`).
    var rows: [[String?]] = []
    /// The columns whose values are whole numbers (JSON numbers rather than strings).
    var integerColumns: Set<String> = []

    /// The rows as CSV (RFC 4180: fields with commas, quotes or line breaks are quoted).
    func csv() -> String {
        // As `psql --csv` writes them: NULL is an empty field, the empty string `""`.
        func field(_ value: String?) -> String {
            guard let value else { return "" }
            guard !value.isEmpty else { return "\"\"" }
            guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        var text = columns.map(field).joined(separator: ",") + "\n"
        for row in rows { text += row.map(field).joined(separator: ",") + "\n" }
        return text
    }

    /// The rows as a JSON array of objects; money and dates are strings, counts numbers.
    func jsonBytes() -> [UInt8] {
        var w = JSONWriter(capacity: 256 * (rows.count + 1))
        w.byte(UInt8(ascii: "["))
        for (index, row) in rows.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.byte(UInt8(ascii: "{"))
            for (column, (name, value)) in zip(columns, row).enumerated() {
                if column > 0 { w.byte(UInt8(ascii: ",")) }
                w.string(name)
                w.byte(UInt8(ascii: ":"))
                if let value, integerColumns.contains(name), let number = Int(value) {
                    InsightReport.integer(number, into: &w)
                } else {
                    w.optionalString(value)
                }
            }
            w.byte(UInt8(ascii: "}"))
        }
        w.byte(UInt8(ascii: "]"))
        return w.bytes
    }

    /// The chosen columns as an aligned table; `label` names a row's `nil`s (e.g. "(total)").
    func humanLines(terminal: Terminal, showing shown: [String], nilAs label: String = "–") -> [String] {
        let indices = shown.compactMap { columns.firstIndex(of: $0) }
        var table = TextTable(headers: indices.map { columns[$0].uppercased() })
        for row in rows { table.add(indices.map { row[$0] ?? label }) }
        return table.render(header: { terminal.out($0, .dim) })
    }
}

extension OutputTable {
    /// Records (customers or activities): `id`, the kind's fields, `tags` (`;`-separated), and
    /// `extraColumns` filled by `extra` (e.g. the status of `cx list --status`).
    init(records views: [RecordView], kind: RecordKind, extraColumns: [String] = [], extra: (RecordView) -> [String?] = { _ in [] }) {
        let fields = Schema.fields(of: kind).map(\.name)
        columns = ["id"] + fields + ["tags"] + extraColumns
        rows = views.map { view in
            [view.id] + fields.map { view.value($0) } + [view.tags.isEmpty ? nil : view.tags.joined(separator: ";")] + extra(view)
        }
    }

    /// A breakdown: `group_value` then the metrics' columns; the total row's group is `nil`.
    init(breakdown groups: [CustomerBaseMetrics.Group], total: CustomerBaseMetrics) {
        columns = ["group_value"] + CustomerBaseMetrics.columnNames
        rows = groups.map { [$0.value] + $0.metrics.columnValues } + [[nil] + total.columnValues]
        integerColumns = Self.metricCounts
    }

    /// A series (or one period): the metrics' columns, one row per period.
    init(series: [CustomerBaseMetrics]) {
        columns = CustomerBaseMetrics.columnNames
        rows = series.map(\.columnValues)
        integerColumns = Self.metricCounts
    }

    /// Cohorts: as SQL's `cx.cohorts`.
    init(cohorts: CohortTable) {
        columns = ["cohort_start", "period_start", "period_end", "customers", "active", "retention", "revenue"]
        rows = cohorts.cells.map {
            [
                $0.cohortStart.description, $0.periodStart.description, $0.periodEnd.description, "\($0.customers)",
                "\($0.active)", $0.retentionText, $0.revenue.description,
            ]
        }
        integerColumns = ["customers", "active"]
    }

    /// The count columns of a metrics row.
    static let metricCounts: Set<String> = Set(
        ["gross_new", "active", "existing", "base_start", "base_end", "retained", "lost", "net_new"]
            + CustomerStatus.allCases.map(\.rawValue))
}
