import CXClient
import CXFuzzSupport

/// Fuzzes `cx import`'s CSV reader, `CustomerCSV.parse`.
///
/// Beyond "does not crash or hang": rows come in file order with line numbers after the
/// header, every problem names a line, and a file with problems in its header yields no rows.
@main enum FuzzCSV {
    static func main() {
        FuzzDriver.run(check)
    }

    static func check(_ bytes: [UInt8]) {
        let (rows, problems) = CustomerCSV.parse(bytes)
        var previous = 1
        for row in rows {
            precondition(row.line > previous, "row line numbers must increase after the header (\(row.line) after \(previous))")
            previous = row.line
            for tag in row.tags { precondition(!tag.isEmpty, "an empty tag") }
        }
        for problem in problems { precondition(problem.line >= 1, "a problem without a line: \(problem)") }
        if problems.contains(where: { $0.line == 1 }) {
            precondition(rows.isEmpty, "rows despite a bad header")
        }
    }
}
