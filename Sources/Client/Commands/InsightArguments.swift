import ArgumentParser
import CXModel

/// How a table of figures is printed (`--format`).
enum TableFormat: String, CaseIterable, ExpressibleByArgument {
    /// Aligned columns for a person.
    case table
    /// One JSON document.
    case json
    /// CSV with a header row, columns named as the SQL functions name them.
    case csv
}

extension MetricsDimension: ExpressibleByArgument {}
extension ReportingStep: ExpressibleByArgument {}

extension OutputTable {
    /// Prints the table in `format`; `shown` are the columns of the human table.
    func print(_ format: TableFormat, terminal: Terminal, showing shown: [String], nilAs label: String = "–") {
        switch format {
        case .json: CommandOutput.printJSON(jsonBytes(), terminal: terminal)
        case .csv: terminal.write(csv().utf8)
        case .table: for line in humanLines(terminal: terminal, showing: shown, nilAs: label) { terminal.line(line) }
        }
    }
}
