import ArgumentParser
import CXModel

extension CX {
    struct Conflicts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List unresolved conflicts with every candidate value.",
            discussion: """
                A conflict is two edits of one field made on different laptops before either saw \
                the other (or a delete on one and an edit on another). Every laptop shows the same \
                candidates in the same order; `cx resolve` picks one and the conflict disappears \
                everywhere after sync.

                JSON: an array of {"id","name","field","candidates":[{"value","replica","user","at"}]}

                Examples:
                  cx conflicts
                  cx conflicts --json | jq length
                """)

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print a JSON array.") var json = false

        func run() async throws {
            try await runCommand(global) { context in
                let store = try context.openStore(exclusive: false)
                defer { store.close() }
                var views: [RecordView] = []
                for id in try store.conflictedIDs() {
                    guard let bytes = try store.viewBytes(id) else { continue }
                    let view = try RecordView(jsonBytes: bytes)
                    if !view.conflicts.isEmpty { views.append(view) }
                }
                let terminal = context.terminal
                if json {
                    var w = JSONWriter()
                    w.byte(UInt8(ascii: "["))
                    var first = true
                    for view in views {
                        for conflict in view.conflicts {
                            if !first { w.byte(UInt8(ascii: ",")) }
                            first = false
                            w.raw("{\"id\":")
                            w.string(view.id)
                            w.raw(",\"name\":")
                            w.optionalString(view.kind == .customer ? view.value("name") : Describe.title(view))
                            w.raw(",\"field\":")
                            w.string(conflict.field)
                            w.raw(",\"candidates\":")
                            RecordView.encode(conflict.candidates, into: &w)
                            w.byte(UInt8(ascii: "}"))
                        }
                    }
                    w.byte(UInt8(ascii: "]"))
                    CommandOutput.printJSON(w.bytes, terminal: terminal)
                    return
                }
                if views.isEmpty {
                    terminal.line("No conflicts.")
                    return
                }
                for view in views {
                    terminal.line(terminal.out(Describe.title(view), .bold) + " (\(Describe.short(view.id)), \(view.kind.rawValue))")
                    for conflict in view.conflicts {
                        terminal.line("  " + Describe.conflict(conflict))
                        terminal.line("    " + terminal.out("resolve: " + Describe.resolveHint(id: view.id, conflict), .dim))
                    }
                }
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resolve a conflict by picking a candidate or giving a value.",
            discussion: """
                --pick N chooses the N-th candidate as numbered by `cx conflicts` (1-based); \
                --value V writes a new value (or keeps the candidate with that value). For a \
                delete/edit conflict use the field `deleted` with keep or delete (--pick 1 = keep, \
                2 = delete).

                Numbers follow the candidates as they stand when `cx resolve` runs: a sync between \
                `cx conflicts` and `cx resolve` (another terminal, a scheduled job) may bring a \
                candidate and renumber them. The output names the value kept; scripts should pick \
                by --value, or read the value kept from --json.

                JSON: {"id","field","value"} — the value kept (null: the field cleared; for \
                `deleted`, "keep" or "delete").

                Examples:
                  cx resolve 3f2a9c phone --pick 2
                  cx resolve 3f2a9c phone --value 555-0123
                  cx resolve 3f2a9c deleted --value keep
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Record id or unique prefix.") var id: String
        @Argument(help: "The conflicted field (or `deleted`).") var field: String
        @Option(parsing: .unconditional, help: "The value to keep (may start with a minus, e.g. -0.02).") var value: String?
        @Option(parsing: .unconditional, help: "The candidate to keep (1-based, as listed by `cx conflicts`).") var pick: Int?
        @Flag(help: "Print {\"id\", \"field\", \"value\"} as JSON.") var json = false

        func validate() throws {
            try OptionValues.requireValue(value, option: "--value")
            if (value == nil) == (pick == nil) { throw ValidationError("Give exactly one of --value V or --pick N.") }
            if let pick, pick < 1 { throw ValidationError("--pick counts from 1.") }
        }

        func run() async throws {
            try await runCommand(global) { context in
                let store = try context.openStore(exclusive: true)
                defer { store.close() }
                let author = try context.author(in: store)
                let (id, _) = try context.resolve(self.id, in: store)
                var kept: String?
                let state = try RecordEditing.modify(id, in: store, allowDeleted: true) { state in
                    guard let conflict = state.conflicts.first(where: { $0.field == field }) else {
                        let fields = state.conflicts.map(\.field)
                        throw CXError(.usage, "\(field) of \(Describe.short(id)) is not in conflict",
                                      hint: fields.isEmpty ? "This record has no conflicts." : "Conflicted: \(fields.joined(separator: ", ")).")
                    }
                    var chosen: String?
                    if let pick {
                        guard pick <= conflict.candidates.count else {
                            throw CXError(.usage, "--pick \(pick): \(field) has \(conflict.candidates.count) candidates")
                        }
                        chosen = conflict.candidates[pick - 1].value
                    } else {
                        chosen = value
                    }
                    try state.resolve(field, to: chosen, by: author)
                    kept = chosen
                }
                try store.compactIfNeeded()
                if json {
                    var w = JSONWriter()
                    w.raw("{\"id\":")
                    w.string(id)
                    w.raw(",\"field\":")
                    w.string(field)
                    w.raw(",\"value\":")
                    w.optionalString(field == RecordState.deletedPseudoField ? (state.isDeleted ? "delete" : "keep") : kept)
                    w.byte(UInt8(ascii: "}"))
                    CommandOutput.printJSON(w.bytes, terminal: context.terminal)
                    return
                }
                let shown = field == RecordState.deletedPseudoField
                    ? (state.isDeleted ? "deleted" : "kept")
                    : "\(field) = " + (state.displayedValue(field).map { "'\($0)'" } ?? "(unset)")
                context.terminal.line("Resolved \(Describe.title(RecordView(state))) (\(Describe.short(id))): \(shown). Run `cx sync` to share it.")
            }
        }
    }
}
