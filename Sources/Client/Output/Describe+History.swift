import CXModel

extension Describe {
    /// The human `cx history` output: one block per change, oldest first, blocks separated by a
    /// blank line —
    /// ```
    /// 2026-11-22 10:00  alice on anna-laptop  created
    ///   name: (none) → Ada
    /// ```
    /// - Parameter time: renders a timestamp (local time by default; tests pass a fixed one).
    public static func history(
        _ history: RecordHistory, terminal: Terminal, time: (String) -> String = Describe.time
    ) -> [String] {
        guard !history.entries.isEmpty else { return ["No changes recorded for \(history.id)."] }
        var lines: [String] = []
        var wasConflicted = false
        for entry in history.entries {
            if !lines.isEmpty { lines.append("") }
            let who = (entry.user ?? "unknown user") + (entry.replica.map { " on \($0)" } ?? "")
            var header = time(entry.at) + "  " + who + "  " + terminal.out(operationVerb(entry.operation), .bold)
            if entry.conflicts { header += "  " + terminal.out("(conflict)", .yellow) }
            lines.append(header)
            for change in entry.fields {
                lines.append("  \(change.field): \(historyValue(change.from)) → \(historyValue(change.to))")
            }
            // A resolution that kept the displayed value changes no field, only the conflict.
            if wasConflicted && !entry.conflicts { lines.append("  conflict resolved") }
            wasConflicted = entry.conflicts
        }
        return lines
    }

    /// `insert` → `created`, `update` → `updated`, `delete` → `deleted`; others unchanged.
    static func operationVerb(_ operation: String) -> String {
        switch operation {
        case "insert": "created"
        case "update": "updated"
        case "delete": "deleted"
        default: operation
        }
    }

    private static func historyValue(_ value: String?) -> String {
        value.map { $0.replacingNewlines() } ?? "(none)"
    }
}
