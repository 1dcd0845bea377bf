import ArgumentParser
import CXModel

extension CX {
    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Exchange changes with the server.",
            discussion: """
                Pushes local changes in batches (customers first), pulls everything changed on the \
                server since the last sync (page by page), and merges it into the cache. Safe to \
                interrupt and to run while other cx commands run (e.g. from cron). Retries briefly \
                on network errors (0.2 s, 0.5 s, 1 s; a refused connection — no server running — \
                fails in under 2 s), showing each retry on a terminal; --retry-for SECONDS (or \
                $CX_RETRY_FOR) keeps trying longer. If the server stays unreachable, exits 69 and \
                keeps every local change.

                The server only sends the customers of your territories (and their activities). \
                Records that leave your territories are removed from the cache; when your role or \
                territories change, the whole book is pulled again and whatever is no longer yours \
                is removed (an interrupted re-sync restarts on the next `cx sync`). A record with \
                local changes the server has not taken is never removed: it is kept and reported; \
                once its changes are passed on, `cx forget ID` removes it from this laptop.

                JSON: {"pushed","pulled","conflicts","rejected":[{"id","code","message"}],"removed",
                "kept":[{"id","reason"}],"duration_ms"}; after a merge made elsewhere, also
                "redirected":[{"id","kind","to","fields","conflicts","tags"[,"crossed":true]}]: edits of a
                merged customer and its activities moved to the survivor (and sent in the same
                sync); "crossed" when merges made on different laptops had merged customers into
                each other and the survivor — the smallest id among them — was restored.
                One sync per home at a time: a second `cx sync` (or `cx forget`) waits up to \
                --wait seconds for the first to finish, then gives up with exit 75 and changes \
                nothing. Edits, `cx show` and `cx list` are not blocked by a running sync.

                Exit codes: 0 done; 3 done but conflicts remain (see `cx conflicts`); 69 server \
                unreachable; 75 another sync of this home is still running after --wait; 77 \
                token refused, or done but the server refused some changes (they stay pending; \
                each is reported with the command that resolves it).

                Examples:
                  cx sync
                  cx sync --quiet || echo "sync failed: $?"
                  CX_TOKEN=cx_… cx sync --server https://cx.example.com --json
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var serverOptions: ServerOptions
        @OptionGroup var retryOptions: RetryOptions
        @Flag(help: "Print the summary as JSON.") var json = false
        @Flag(help: "Print nothing but errors.") var quiet = false
        @Option(parsing: .unconditional, help: ArgumentHelp("Wait at most this long for another sync of this home to finish.", valueName: "seconds"))
        var wait: Double = SyncLock.defaultWait

        func validate() throws {
            guard wait >= 0, wait.isFinite else { throw ValidationError("--wait takes a number of seconds ≥ 0.") }
        }

        func run() async throws {
            try await runCommand(global) { context in
                var configuration = try context.requireConfiguration()
                // One sync per home: held until this command returns (released on deinit).
                let syncLock = try await SyncLock.acquire(cacheDirectory: context.paths.cacheDirectory, wait: wait, command: "cx sync")
                defer { syncLock.release() }
                let client = try context.syncClient(serverOptions, retry: retryOptions, quiet: quiet)
                let report: SyncReport
                do {
                    if configuration.user == nil {
                        configuration.user = try await client.me().user
                        try configuration.save(context.paths)
                    }
                    var engine = SyncEngine(cacheDirectory: context.paths.cacheDirectory, replicaID: configuration.replicaID)
                    engine.user = configuration.user
                    // Smaller pages for tests of paging and resumption (default 1000).
                    if let text = context.environment["CX_SYNC_BATCH"], let size = Int(text), (1...1000).contains(size) {
                        engine.batchSize = size
                        engine.pageLimit = size
                        engine.snapshotPageLimit = size
                    }
                    // The regular first sync instead of a snapshot's (benchmarks compare them).
                    if context.environment["CX_SNAPSHOT_PULL"] == "0" { engine.pullsSnapshot = false }
                    // A one-line progress display, rewritten in place, only on a terminal.
                    let showsProgress = !quiet && !json && POSIX.isTerminal(2)
                    if showsProgress {
                        engine.progress = { message in POSIX.writeStderr("\r\u{1B}[2K" + message) }
                    }
                    defer { if showsProgress { POSIX.writeStderr("\r\u{1B}[2K") } }
                    report = try await engine.run(client: client)
                } catch {
                    await client.shutdown()
                    throw error
                }
                await client.shutdown()
                let terminal = context.terminal
                for skipped in report.skipped { terminal.warn("skipped a pulled record: \(skipped)") }
                if !report.rejected.isEmpty {
                    // Which records need attention and the command that resolves each.
                    let store = try? context.openStore(exclusive: false)
                    defer { store?.close() }
                    let replicaID = configuration.replicaID
                    let incarnation = store?.replica?.id
                    let territories = store?.scope.flatMap { $0.isEverything ? nil : $0.territories }
                    for rejection in report.rejected {
                        let state = try? store?.state(rejection.id)
                        // Only this home's writes: the server may never have had the record.
                        let localOnly = state?.clock.entries.allSatisfy {
                            $0.replica == replicaID || $0.replica.hasPrefix(replicaID + ".") || $0.replica == incarnation
                        } ?? false
                        let remedy = SyncReport.remedy(
                            for: rejection,
                            record: .init(
                                kind: state?.kind, customerID: state?.kind == .activity ? state?.displayedValue("customer_id") : nil,
                                deleted: state?.isDeleted ?? false, localOnly: localOnly, territories: territories))
                        let title = state.map { "\(Describe.title(RecordView($0))) (\(Describe.short(rejection.id)))" }
                            ?? Describe.short(rejection.id)
                        terminal.warn(
                            "the server refused \(title): \(rejection.message) (\(rejection.code)); it stays pending. To resolve: \(remedy)")
                    }
                }
                for kept in report.kept {
                    terminal.warn(
                        "kept \(Describe.short(kept.id)): it \(kept.reason); pass the changes on (`cx show \(Describe.short(kept.id)) --json`), "
                            + "then `cx forget \(Describe.short(kept.id)) --yes`")
                }
                if !json && !quiet {
                    for line in CX.redirectLines(report.redirected) { terminal.line(line) }
                }
                if !json && !quiet, let note = Self.scopeNote(report) { terminal.note(note) }
                if json {
                    CommandOutput.printJSON(report.jsonBytes(), terminal: terminal)
                } else if !quiet {
                    for line in Self.summary(report, server: client.server) { terminal.line(line) }
                    if report.conflicts > 0 {
                        terminal.line(terminal.out("\(report.conflicts) record\(report.conflicts == 1 ? " has" : "s have") conflicts: see `cx conflicts`.", .yellow))
                    }
                }
                if !report.rejected.isEmpty {
                    terminal.flush()
                    throw ExitCode(CXError.Code.permission.rawValue)
                }
                if report.conflicts > 0 {
                    terminal.flush()
                    throw ExitCode(CXError.Code.conflicts.rawValue)
                }
            }
        }
    }

    /// One sentence per record moved to the survivor of a merge during the sync.
    static func redirectLines(_ redirects: [SyncReport.Redirect]) -> [String] {
        redirects.map { redirect in
            let from = Describe.short(redirect.id), to = Describe.short(redirect.to)
            if redirect.kind == .activity {
                return "Activity \(from) belonged to a merged customer: moved to \(to)."
            }
            var moved = redirect.fields.map { redirect.conflicts.contains($0) ? "\($0) (kept beside its value: a conflict)" : $0 }
            moved += redirect.tags.map { "tag \($0)" }
            let what = moved.isEmpty ? "nothing new to move" : moved.joined(separator: ", ")
            if redirect.crossed {
                return "Customers \(from) and \(to) had been merged into each other on different laptops (the merges crossed): "
                    + "kept \(to), restored; values of \(from) it had not seen moved there: \(what)."
            }
            return "Customer \(from) was merged into \(to); edits made to it meanwhile moved there: \(what)."
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show pending changes, last sync, conflicts and server.",
            discussion: """
                Works offline (reads only the local cache).
                JSON: {"replica_id","server","user","pending","last_sync","conflicts","customers","activities",
                "scope": {"role","territories"} or null before the first sync}

                Examples:
                  cx status
                  cx status --json | jq .pending
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var serverOptions: ServerOptions
        @Flag(help: "Print the status as JSON.") var json = false

        func run() async throws {
            try await runCommand(global) { context in
                let configuration = try context.configuration()
                let settings = try context.serverSettings(serverOptions)
                let store = try context.openStore(exclusive: false)
                defer { store.close() }
                let pending = try store.pendingIDs().count
                let conflicts = try store.conflictedIDs().count
                let counts = try store.counts()
                let lastSync = store.lastSync
                let terminal = context.terminal
                if json {
                    // The replica this cache writes as (its incarnation), else the installation's.
                    let document = CommandDocuments.Status(
                        replicaID: configuration.map { store.replica?.id ?? $0.replicaID }, server: settings.server,
                        user: configuration?.user, pending: pending, lastSync: lastSync, conflicts: conflicts,
                        customers: counts.customers, activities: counts.activities, scope: store.scope)
                    CommandOutput.printJSON(try CommandDocuments.bytes(document), terminal: terminal)
                    return
                }
                var rows: [(String, String)] = []
                rows.append(("Server", settings.server ?? "none (offline only)"))
                rows.append(("User", configuration?.user ?? "unknown"))
                rows.append(("Scope", store.scope?.summary ?? "unknown until the first sync"))
                rows.append(("Replica", configuration.map { store.replica?.id ?? $0.replicaID } ?? "not initialised (run `cx init`)"))
                rows.append(("Pending", pending == 0 ? "nothing to push" : "\(pending) record\(pending == 1 ? "" : "s") changed locally, not yet synced"))
                rows.append(("Last sync", lastSync.map(Describe.time) ?? "never"))
                rows.append(("Conflicts", conflicts == 0 ? "none" : "\(conflicts) record\(conflicts == 1 ? "" : "s") (see `cx conflicts`)"))
                rows.append(("Cache", "\(counts.customers) customers, \(counts.activities) activities in \(context.paths.cacheDirectory)"))
                for (name, value) in rows {
                    terminal.line(name + ":" + String(repeating: " ", count: 11 - name.count) + value)
                }
            }
        }
    }
}

extension CX.Sync {
    /// The stderr line about a scope change or a re-sync, if there was one.
    static func scopeNote(_ report: SyncReport) -> String? {
        guard report.rescoped else { return nil }
        let now = report.scope.map { " (now: \($0.summary))" } ?? ""
        if report.scopeChanged { return "Your scope changed\(now); your book was re-synced." }
        return "Your book was re-synced with your scope\(now)."
    }

    /// The human summary lines of a sync.
    static func summary(_ report: SyncReport, server: String) -> [String] {
        var text = "Synced with \(server): \(report.pushed) pushed, \(report.pulled) pulled"
        if !report.rejected.isEmpty { text += ", \(report.rejected.count) refused" }
        var lines = [text + "."]
        if report.removed > 0 {
            lines.append("\(report.removed) record\(report.removed == 1 ? "" : "s") left your territories and \(report.removed == 1 ? "was" : "were") removed.")
        }
        if !report.kept.isEmpty {
            let count = report.kept.count
            lines.append("\(count) record\(count == 1 ? "" : "s") left your territories but \(count == 1 ? "is" : "are") kept: \(count == 1 ? "it has" : "they have") local changes not taken by the server.")
        }
        return lines
    }
}
