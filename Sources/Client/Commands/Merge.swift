import ArgumentParser
import CXModel

extension CX {
    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge a duplicate customer into the one to keep.",
            discussion: """
                Works offline; the merge syncs like any edit. The kept customer takes the \
                duplicate's values where it has none; where both hold different values, both stay \
                as candidates of a conflict (`cx conflicts`, `cx resolve`): nothing is chosen \
                silently. Tags are united. Every activity of the duplicate moves to the kept \
                customer, and the duplicate is deleted with a pointer to the survivor \
                (extra.merged_into). Edits made to the duplicate elsewhere before their laptops \
                hear of the merge are moved to the survivor when those laptops sync.

                A rep can merge customers of their territories (the server checks every write); \
                managers and admins any two. `cx duplicates` lists likely pairs.

                JSON: {"kept","dropped","filled":[field…],"conflicts":[field…],"tags":[tag…],
                "moved":[activity id…]}

                Examples:
                  cx merge 3f2a9c1e 8b1d2c3e
                  cx merge 3f2a9c1e 8b1d2c3e --json
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The customer to keep (id or unique prefix).") var keep: String
        @Argument(help: "The duplicate to merge into it and delete (id or unique prefix).") var drop: String
        @Flag(help: "Print what was merged as JSON.") var json = false

        func run() async throws {
            try await runCommand(global) { context in
                let store = try context.openStore(exclusive: true)
                defer { store.close() }
                let author = try context.author(in: store)
                let (keepID, keepKind) = try context.resolve(keep, in: store, kind: .customer)
                let (dropID, dropKind) = try context.resolve(drop, in: store, kind: .customer)
                for (id, kind) in [(keepID, keepKind), (dropID, dropKind)] where kind != .customer {
                    throw CXError(.usage, "\(Describe.short(id)) is an activity; only customers are merged")
                }
                guard let keepState = try store.state(keepID), let dropState = try store.state(dropID) else {
                    throw CXError(.failure, "the cache lost a record while merging; run the command again")
                }
                // A rep merges within their territories (as of the last sync); the server checks
                // every write of the merge anyway.
                if let scope = store.scope, !scope.isEverything, scope.role == .rep {
                    for state in [keepState, dropState] {
                        let territory = state.displayedValue("territory")
                        guard let territory, scope.territories.contains(territory) else {
                            throw CXError(
                                .permission,
                                "\(Describe.title(RecordView(state))) (\(Describe.short(state.id))) is in \(territory.map { "territory '\($0)'" } ?? "no territory"), which you do not hold; a rep merges customers of their territories",
                                hint: "Ask a manager or an admin to merge them (`cx merge` or `cx.merge_customers` in SQL).")
                        }
                    }
                }
                let activities = try store.activityIDs(ofCustomer: dropID).compactMap { try store.state($0) }
                let merge: DuplicateMerge
                do throws(DuplicateMerge.Refusal) {
                    merge = try DuplicateMerge(keep: keepState, drop: dropState, activities: activities, by: author)
                } catch {
                    throw CXError(.failure, error.message, hint: "`cx duplicates` lists likely pairs; `cx show ID` shows a customer.")
                }
                try RecordEditing.requireComplete(merge.kept)
                try store.commit(([merge.kept, merge.dropped] + merge.moved).map { CacheStore.Change(state: $0, pending: true) })
                try store.compactIfNeeded()

                let terminal = context.terminal
                let absorbed = merge.absorption
                if json {
                    var w = JSONWriter()
                    w.raw("{\"kept\":")
                    w.string(keepID)
                    w.raw(",\"dropped\":")
                    w.string(dropID)
                    for (key, values) in [("filled", absorbed.filled), ("conflicts", absorbed.conflicted), ("tags", absorbed.tags),
                                          ("moved", merge.moved.map(\.id))] {
                        w.byte(UInt8(ascii: ","))
                        w.string(key)
                        w.raw(":[")
                        for (index, value) in values.enumerated() {
                            if index > 0 { w.byte(UInt8(ascii: ",")) }
                            w.string(value)
                        }
                        w.byte(UInt8(ascii: "]"))
                    }
                    w.byte(UInt8(ascii: "}"))
                    CommandOutput.printJSON(w.bytes, terminal: terminal)
                    return
                }
                let keptTitle = "\(Describe.title(RecordView(keepState))) (\(Describe.short(keepID)))"
                let dropTitle = "\(dropState.displayedValue("name") ?? "") (\(Describe.short(dropID)))"
                terminal.line("Merged \(dropTitle) into \(keptTitle).")
                if !absorbed.filled.isEmpty { terminal.line("  filled: \(absorbed.filled.joined(separator: ", "))") }
                if !absorbed.tags.isEmpty { terminal.line("  tags added: \(absorbed.tags.joined(separator: ", "))") }
                let moved = merge.moved.count
                terminal.line("  \(moved) activit\(moved == 1 ? "y" : "ies") moved")
                if !absorbed.conflicted.isEmpty {
                    terminal.line(terminal.out(
                        "  both had different values for \(absorbed.conflicted.joined(separator: ", ")): kept both; "
                            + "choose with `cx resolve \(Describe.short(keepID)) FIELD --pick N` (see `cx conflicts`)", .yellow))
                }
                terminal.line("Run `cx sync` to send the merge.")
            }
        }
    }
}
