import Foundation

/// One run of the suite: a fresh server and homes, a seeded sequence of operations and faults,
/// then quiescence and the invariant checks.
final class FaultRun {
    let config: RunConfig
    var random: SeededGenerator
    let shell: Shell
    let runDirectory: String
    let server: ServerHarness
    var proxy: FaultProxy!
    var replicas: [ReplicaDriver] = []
    var ledger = Ledger()
    var result: RunResult
    /// Purchases made (activity id, customer id), for `cx paid` (by laptops, SQL and imports).
    var purchases: [(id: String, customer: String)] = []
    /// Saved copies of homes (`restore` fault): replica name → snapshot directory and the
    /// ledger mark when it was taken.
    var snapshots: [String: (path: String, mark: Int)] = [:]
    /// Step until which the proxy misbehaves.
    var proxyFaultUntil = -1
    /// The last `cx sync --json` summary of each replica: ids refused or kept.
    var refusedIds: [String: Set<String>] = [:]
    /// Why: replica name → record id → "code: message" (or the `kept` reason).
    var refusalReasons: [String: [String: String]] = [:]
    var tokens: [String: String] = [:]
    var step = 0
    var copies = 0
    let started = Date()

    static let territories = ["north", "south", "east"]
    /// The central team's share of the writes by default (`--central-share`).
    static let defaultCentralShare = 0.25

    init(config: RunConfig) throws {
        self.config = config
        random = SeededGenerator.derive(config.seed, 1)
        result = RunResult(seed: config.seed)
        runDirectory = "\(config.workDirectory)/run-\(config.seed)"
        try? FileManager.default.removeItem(atPath: runDirectory)
        try FileManager.default.createDirectory(atPath: runDirectory + "/scratch", withIntermediateDirectories: true)
        // The embedded cluster runs as `postgres` when we are root: it must reach the data dir.
        chmod(config.workDirectory, 0o755)
        chmod(runDirectory, 0o755)
        shell = Shell(scratch: runDirectory + "/scratch")
        guard let port = FaultProxy.freePort() else { throw HarnessError("no free TCP port") }
        server = ServerHarness(
            binary: config.binDirectory + "/cx-server", dataDirectory: runDirectory + "/d", port: port, shell: shell)
    }

    /// Runs everything and returns what was found. Always stops the server and the cluster.
    func execute() -> RunResult {
        defer {
            if !config.keep { try? FileManager.default.removeItem(atPath: runDirectory) }
        }
        do {
            try setUp()
            for index in 0..<config.ops {
                step = index
                try performStep()
            }
            try finish()
        } catch {
            result.other.append("harness: \(error) (seed \(config.seed))")
        }
        // Graceful stop (SIGTERM): in-flight work finishes, the cluster stops; should be quick.
        proxy?.stop()
        let stopping = Date()
        server.stop()
        let stopSeconds = Date().timeIntervalSince(stopping)
        if stopSeconds > 10 {
            result.notes.append(String(format: "cx-server took %.0f s to stop on SIGTERM (seed %llu)", stopSeconds, config.seed))
        }
        result.writes = ledger.writes.count
        result.acknowledged = ledger.writes.filter(\.acknowledged).count
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    func log(_ message: @autoclosure () -> String) {
        guard config.verbose else { return }
        let elapsed = String(format: "%6.1f", Date().timeIntervalSince(started))
        FileHandle.standardError.write(Data("  [\(config.seed) #\(step) \(elapsed)s] \(message())\n".utf8))
    }

    func count(_ fault: String) {
        result.faultCounts[fault, default: 0] += 1
    }

    // MARK: - Setup

    /// The users of a run: an admin, reps over three territories, a manager over two.
    private func users() -> [(name: String, scope: Scope)] {
        let all: [(String, Scope)] = [
            ("admin", Scope(role: "admin", territories: [])),
            ("rep-n", Scope(role: "rep", territories: ["north"])),
            ("rep-s", Scope(role: "rep", territories: ["south"])),
            ("mgr", Scope(role: "manager", territories: ["north", "south"])),
            ("rep-e", Scope(role: "rep", territories: ["east"])),
            ("rep-n2", Scope(role: "rep", territories: ["north"])),
            ("mgr-se", Scope(role: "manager", territories: ["south", "east"])),
        ]
        return Array(all.prefix(max(2, min(config.replicas, all.count))))
    }

    private func setUp() throws {
        try server.start()
        guard let proxy = FaultProxy(upstreamPort: server.port, random: SeededGenerator.derive(config.seed, 2)) else {
            throw HarnessError("cannot start the proxy")
        }
        self.proxy = proxy
        tokens["admin"] = server.adminToken
        if config.central { try createSQLUsers() }
        for (name, scope) in users() where name != "admin" {
            _ = try server.admin(
                ["user", "add", name, "--role", scope.role] + scope.territories.flatMap { ["--territory", $0] })
            let output = try server.admin(["token", "issue", name])
            guard let range = output.range(of: #"cx_[0-9a-f]{52}"#, options: .regularExpression) else {
                throw HarnessError("no token in `cx-server token issue \(name)` output: \(output)")
            }
            tokens[name] = String(output[range])
        }
        for (name, scope) in users() {
            // Every other laptop syncs in requests of 3 states, so its syncs push ahead; every
            // third compacts after each write and folds its syncs mid-way.
            let replica = ReplicaDriver(
                name: name, user: name, scope: scope, home: "\(runDirectory)/home-\(name)",
                cxBinary: config.binDirectory + "/cx", shell: shell, syncBatch: replicas.count % 2 == 0 ? 3 : nil,
                compactionThreshold: replicas.count % 3 == 1 ? 2_048 : nil)
            let initResult = replica.cx(
                "init", ["--server", "http://127.0.0.1:\(proxy.port)", "--token", tokens[name] ?? "", "--json"])
            guard initResult.succeeded else { throw HarnessError("setup: \(initResult.summary)") }
            replicas.append(replica)
        }
    }

    // MARK: - Steps

    private func performStep() throws {
        if step == proxyFaultUntil { proxy.set(.init()) }
        guard let replica = random.pick(replicas) else { return }
        if !config.faults.isEmpty && random.chance(0.15) {
            try injectFault()
        } else if random.chance(0.22) {
            sync(replica)
        } else if config.central && random.chance(config.centralShare) {
            performCentralWrite()
        } else {
            performWrite(on: replica)
        }
    }

    /// `cx sync --json` on a replica; updates knowledge and the replica's refused ids.
    @discardableResult
    func sync(_ replica: ReplicaDriver, killAfter: Double? = nil, clockOffset: String? = nil) -> CommandResult {
        ledger.synced(replica.name)
        let outcome = replica.cx("sync", ["--json"], killAfter: killAfter, clockOffset: clockOffset)
        if let summary = JSON.object(outcome.stdout) {
            var refused = Set<String>()
            var reasons: [String: String] = [:]
            for entry in (summary["rejected"] as? [[String: Any]] ?? []) + (summary["kept"] as? [[String: Any]] ?? []) {
                guard let id = entry["id"] as? String else { continue }
                refused.insert(id)
                let code = entry["code"] as? String ?? "kept"
                reasons[id] = "\(code): \(entry["message"] as? String ?? entry["reason"] as? String ?? "")"
            }
            refusedIds[replica.name] = refused
            refusalReasons[replica.name] = reasons
            // Redirects write on the survivor what the merged duplicate's late edits carried (an
            // activity: its customer_id), and a repair of crossed merges also restores the
            // survivor: writes of this replica that saw what it knew.
            for entry in summary["redirected"] as? [[String: Any]] ?? [] {
                guard let survivor = entry["to"] as? String, let id = entry["id"] as? String else { continue }
                if entry["kind"] as? String == "activity" {
                    ledger.recordRedirect(replica: replica.name, record: id, fields: ["customer_id"], step: step)
                    continue
                }
                let fields = (entry["fields"] as? [String] ?? []) + (entry["tags"] as? [String] ?? []).map { "tag:" + $0 }
                if entry["crossed"] as? Bool == true {
                    ledger.recordRepair(replica: replica.name, survivor: survivor, fields: fields, step: step)
                } else {
                    ledger.recordRedirect(replica: replica.name, record: survivor, fields: fields, step: step)
                }
            }
            if !reasons.isEmpty { log("\(replica.name): refused \(reasons)") }
        }
        if [0, 3].contains(outcome.exitCode ?? -1) { ledger.completedSync(replica.name) }
        noteHang(outcome, underFaketime: clockOffset != nil)
        log("\(replica.name): sync → \(outcome.killed ? "killed" : "exit \(outcome.exitCode.map(String.init) ?? "?")")")
        ledger.synced(replica.name)
        return outcome
    }

    /// Records a command that hung until the suite's timeout killed it.
    func noteHang(_ outcome: CommandResult, underFaketime: Bool) {
        guard outcome.timedOut else { return }
        let message = "\(outcome.commandLine) hung and was killed at step \(step) (seed \(config.seed))"
        if underFaketime {
            result.notes.append(message + " — under faketime, which may be the cause")
        } else {
            result.other.append(message)
        }
    }

    /// Checks right away that a home's cache still loads (after a kill), recording a violation if not.
    func checkCache(_ replica: ReplicaDriver, after what: String) {
        let status = replica.cx("status", ["--json"])
        if !status.succeeded || JSON.object(status.stdout) == nil {
            result.brokenCaches.append(
                "\(replica.name) after \(what) at step \(step): \(status.summary) (seed \(config.seed))")
        }
    }
}
