import ArgumentParser
import CXModel

extension CX {
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Delete a customer or activity.",
            discussion: """
                Deletion is a write too (a tombstone): it syncs like an edit. If someone edits the \
                record concurrently elsewhere, the record stays visible with a keep-or-delete \
                conflict (`cx conflicts`) until someone resolves it.

                Examples:
                  cx rm 3f2a9c1e
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Record id or unique prefix (≥ 6 characters).") var id: String

        func run() async throws {
            try await runCommand(global) { context in
                let store = try context.openStore(exclusive: true)
                defer { store.close() }
                let author = try context.author(in: store)
                let (id, _) = try context.resolve(self.id, in: store)
                guard let current = try store.state(id) else { throw CXError(.failure, "no record \(id)") }
                if current.isDeleted {
                    context.terminal.note("\(Describe.title(RecordView(current))) (\(Describe.short(id))) is already deleted.")
                    return
                }
                let state = try RecordEditing.modify(id, in: store) { $0.delete(by: author) }
                try store.compactIfNeeded()
                context.terminal.line("Deleted \(Describe.title(RecordView(state))) (\(Describe.short(id))).")
                if state.kind == .customer, try store.isPending(id),
                    let warning = TerritoryCheck.warning(
                        territory: state.displayedValue("territory"), scope: store.scope, id: id, action: .delete)
                {
                    context.terminal.warn(warning)
                }
            }
        }
    }
}
