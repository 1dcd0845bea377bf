import ArgumentParser
import CXModel

extension CX {
    /// `cx forget ID [--yes]`: drop a record that left the user's territories from this laptop.
    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a customer that left your territories from this laptop.",
            discussion: """
                `cx sync` removes customers that left your territories by itself, except those with \
                changes the server refused (it keeps them and reports them on every sync, exit 77). \
                Once you have passed those changes on (for example `cx show ID --json`), forget \
                the customer: it and its activities are removed from this laptop only; nothing \
                is sent to the server. Records still in your territories cannot be forgotten.

                Needs the server, which confirms the record is no longer in your scope. Changes \
                the server has not accepted are discarded only with --yes. Waits (up to --wait \
                seconds, then exit 75) while a `cx sync` of this home runs.

                Examples:
                  cx show 3f2a9c --json > nord-ag.json
                  cx forget 3f2a9c --yes
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var serverOptions: ServerOptions
        @OptionGroup var retryOptions: RetryOptions
        @Argument(help: "Customer or activity id, or a unique prefix (≥ 6 characters).") var id: String
        @Flag(help: "Discard changes the server has not accepted.") var yes = false
        @Option(parsing: .unconditional, help: ArgumentHelp("Wait at most this long for a running sync of this home to finish.", valueName: "seconds"))
        var wait: Double = SyncLock.defaultWait

        func validate() throws {
            guard wait >= 0, wait.isFinite else { throw ValidationError("--wait takes a number of seconds ≥ 0.") }
        }

        func run() async throws {
            try await runCommand(global) { context in
                // A sync running meanwhile could pull the record back (or rely on it) between the
                // server's answer and the drop: forget holds the sync lock throughout.
                let syncLock = try await SyncLock.acquire(cacheDirectory: context.paths.cacheDirectory, wait: wait, command: "cx forget")
                defer { syncLock.release() }
                // Resolve with a shared lock: the server is asked without holding the cache.
                let (id, kind, title, scopeRecord): (String, RecordKind, String, String)
                let localCustomer: String?
                let pendingLocalOnly: Bool
                let configuration = try context.configuration()
                do {
                    let store = try context.openStore(exclusive: false)
                    defer { store.close() }
                    let resolved = try context.resolve(self.id, in: store)
                    guard let state = try store.state(resolved.id) else { throw CXError(.failure, "no record \(resolved.id)") }
                    (id, kind) = resolved
                    title = "\(Describe.title(RecordView(state))) (\(Describe.short(id)))"
                    // An activity is asked about itself: it may have moved to a customer of
                    // another territory while its cached copy still names the old one.
                    scopeRecord = id
                    localCustomer = kind == .activity ? state.displayedValue("customer_id") : nil
                    pendingLocalOnly = try store.isPending(id) && state.clock.entries.allSatisfy { $0.replica == configuration?.replicaID }
                    if store.scope?.isEverything == true {
                        throw CXError(.failure, "\(title) cannot be forgotten: you see every territory",
                                      hint: "Fix it with `cx edit \(Describe.short(resolved.id))`, or delete it for everyone with `cx rm \(Describe.short(resolved.id))`.")
                    }
                }
                // Only the server knows the record left the scope (the local copy may still show
                // the old territory); forgetting a record in scope would leave this replica without it.
                let client = try context.syncClient(
                    serverOptions, retry: retryOptions,
                    unreachableHint: "Nothing was forgotten; the server must confirm the record left your territories. Run `cx forget \(self.id)` again when the server is reachable.")
                let inScope: Bool
                do {
                    inScope = try await client.holdsInScope(scopeRecord)
                    // An activity only this laptop has written, of a customer still in scope, is
                    // unknown to the server (not yet pushed) rather than out of scope.
                    if !inScope, pendingLocalOnly, let localCustomer, try await client.holdsInScope(localCustomer) {
                        throw CXError(.failure, "\(title) cannot be forgotten: the server does not have it yet and its customer is in your territories",
                                      hint: "Push it with `cx sync`, or delete it with `cx rm \(Describe.short(id))`.")
                    }
                } catch {
                    await client.shutdown()
                    throw error
                }
                await client.shutdown()
                if inScope {
                    throw CXError(.failure, "\(title) cannot be forgotten: it is in your territories",
                                  hint: "Delete it with `cx rm` if it should go for everyone.")
                }

                let store = try context.openStore(exclusive: true)
                defer { store.close() }
                var records: [(id: String, kind: RecordKind)] = [(id, kind)]
                if kind == .customer {
                    records += try store.activityIDs(ofCustomer: id).map { ($0, RecordKind.activity) }
                }
                let pending = try records.filter { try store.isPending($0.id) }
                // A merge made here into this customer waits for it (``MergeHold``): without the
                // survivor, the duplicate's tombstone would carry its values to no one. Forgetting
                // the survivor discards the merge too; the duplicates come back as the server has
                // them (a rescope re-reads the scope at the next sync).
                let merges = kind == .customer ? try MergeHold.dependents(of: id, in: store) : []
                if (!pending.isEmpty || !merges.isEmpty) && !yes {
                    var problem = "\(title) has changes the server has not accepted "
                        + "(\(pending.count) record\(pending.count == 1 ? "" : "s")); forgetting discards them"
                    if !merges.isEmpty {
                        let names = merges.map { Describe.short($0) }.joined(separator: ", ")
                        problem += ", and \(names) \(merges.count == 1 ? "was" : "were") merged into it on this laptop: forgetting it discards that merge too"
                    }
                    throw CXError(
                        .failure, problem,
                        hint: "Keep a copy first (`cx show \(Describe.short(id)) --json`), then run `cx forget \(Describe.short(id)) --yes`"
                            + (merges.isEmpty ? "." : ": the merged customers come back as the server has them at the next `cx sync`."))
                }
                for merged in merges {
                    records.append((merged, .customer))
                    records += try store.activityIDs(ofCustomer: merged).map { ($0, RecordKind.activity) }
                }
                try store.commit([], drops: records, resetsCursor: !merges.isEmpty, rescoping: merges.isEmpty ? nil : true)
                try store.compactIfNeeded()
                let activities = records.count - 1 - merges.count
                context.terminal.line(
                    "Forgot \(title)"
                        + (activities > 0 ? " and \(activities) activit\(activities == 1 ? "y" : "ies")" : "")
                        + " on this laptop.")
                if !merges.isEmpty {
                    context.terminal.line(
                        "Discarded the merge of \(merges.map { Describe.short($0) }.joined(separator: ", ")) into it: "
                            + "`cx sync` brings \(merges.count == 1 ? "that customer" : "those customers") back as the server has \(merges.count == 1 ? "it" : "them").")
                }
            }
        }
    }
}
