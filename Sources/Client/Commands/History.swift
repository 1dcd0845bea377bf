import ArgumentParser
import CXModel

extension CX {
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show who changed a record, when, and how (asks the server).",
            discussion: """
                Lists every change the server stored for the record, oldest first: when, by whom \
                and from which replica, whether it created, updated or deleted the record, and each \
                field's value before and after ("(none)" when unset). Changes that left the record \
                in conflict are marked "(conflict)". Needs the server: local changes not yet synced \
                are not shown.

                ID is a unique prefix of a cached record (≥ 6 characters) or any full id, cached or not.

                JSON: {"id","kind","entries":[{"seq","at","user","replica","operation","conflicts",
                "fields":[{"field","from","to"}]}]}
                Exit codes: 0 done; 1 the server has no history for the record (not in your scope \
                or never synced); 64 bad or ambiguous id; 69 server unreachable; 77 token refused.

                Examples:
                  cx history 3f2a9c1e
                  cx history 3f2a9c1e --json | jq -r '.entries[] | .user'
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var serverOptions: ServerOptions
        @OptionGroup var retryOptions: RetryOptions
        @Argument(help: "Record id or unique prefix (≥ 6 characters).") var id: String
        @Flag(help: "Print the history as JSON.") var json = false

        func run() async throws {
            try await runCommand(global) { context in
                let id = try resolveID(context)
                let client = try context.syncClient(
                    serverOptions, retry: retryOptions,
                    unreachableHint: "Nothing was changed (history is a read); run `cx history \(self.id)` again when the server is reachable.")
                let history: RecordHistory
                do {
                    history = try await client.history(of: id)
                } catch {
                    await client.shutdown()
                    throw error
                }
                await client.shutdown()
                if json {
                    CommandOutput.printJSON(history.jsonBytes(), terminal: context.terminal)
                } else {
                    for line in Describe.history(history, terminal: context.terminal) { context.terminal.line(line) }
                }
            }
        }

        /// A full id is taken as is (the record may not be cached); a prefix must match one
        /// cached record.
        private func resolveID(_ context: CommandContext) throws -> String {
            let store = try context.openStore(exclusive: false)
            defer { store.close() }
            if let full = RecordID.canonical(id), try store.kind(of: full) == nil { return full }
            return try context.resolve(id, in: store).id
        }
    }
}
