import Foundation

/// After the faults: quiescence, then the invariants.
///
/// (a) every replica shows exactly the server's records within its scope, and the server's typed
///     columns match its state; (b) no acknowledged write is lost; (c) every cache loads;
/// (d) no 5xx other than 503 while the database is down.
extension FaultRun {
    func finish() throws {
        proxy.set(.init())
        proxy.setDatabaseDown(false)
        if !server.isRunning { try server.start() }
        if !server.waitReady(seconds: 5) {
            server.startDatabase()
            if !server.waitReady(seconds: 60) { throw HarnessError("server not ready before the final syncs") }
        }
        try quiesce()

        // The reference: a fresh admin home that has never seen a fault.
        let auditor = ReplicaDriver(
            name: "auditor", user: "admin", scope: Scope(role: "admin", territories: []),
            home: "\(runDirectory)/home-auditor", cxBinary: config.binDirectory + "/cx", shell: shell)
        let initResult = auditor.cx("init", ["--server", server.url, "--token", server.adminToken, "--json"])
        let auditorSync = auditor.cx("sync", ["--json"])
        guard initResult.succeeded, [0, 3].contains(auditorSync.exitCode ?? -1), let reference = auditor.allRecords()
        else {
            throw HarnessError("the auditor home could not read the server: \(initResult.summary); \(auditorSync.summary)")
        }

        checkCaches()
        checkServerColumns(against: reference)
        checkReplicas(against: reference)
        checkWrites(against: reference)
        checkMerges(against: reference)
        // One line per kind of bad answer, with its count (a dead database gives many alike).
        let bad = proxy.snapshot().bad
        for (kind, count) in Dictionary(grouping: bad, by: \.description).mapValues(\.count).sorted(by: { $0.key < $1.key }) {
            result.badStatuses.append("\(count)× \(kind) (seed \(config.seed))")
        }
        result.badAnswers = bad.count
        result.slowAnswers = proxy.snapshot().slow.map { "\($0) (seed \(config.seed))" }
    }

    /// Every replica syncs, round after round, until a round changes nothing anywhere.
    private func quiesce() throws {
        for round in 1...8 {
            var quiet = true
            for replica in replicas {
                let outcome = sync(replica)
                guard let summary = JSON.object(outcome.stdout) else {
                    quiet = false
                    if round == 8 {  // once, for the last round
                        result.other.append(
                            "final sync of \(replica.name) keeps failing: \(outcome.summary) (seed \(config.seed))")
                    }
                    continue
                }
                let pushed = summary["pushed"] as? Int ?? 0
                let pulled = summary["pulled"] as? Int ?? 0
                let removed = summary["removed"] as? Int ?? 0
                let refused = (summary["rejected"] as? [Any])?.count ?? 0
                if pushed > refused || pulled > 0 || removed > 0 { quiet = false }
            }
            if quiet { return }
        }
        result.other.append("no quiescence after 8 rounds of syncs of every replica (seed \(config.seed))")
    }

    /// (c) `cx status --json` succeeds on every home.
    private func checkCaches() {
        for replica in replicas { checkCache(replica, after: "the final syncs") }
    }

    /// (a) the server's typed columns hold the displayed values of its state (as the auditor shows them).
    private func checkServerColumns(against reference: [String: [String: Any]]) {
        let customerColumns = ["name", "company", "email", "phone", "city", "notes", "segment", "territory"]
        let activityColumns = ["amount", "paid_on", "note"]
        let null = "<null>"
        func select(_ table: String, _ columns: [String]) -> [[String]]? {
            let list = columns.map { "coalesce(\"\($0)\"::text, '\(null)')" }.joined(separator: ", ")
            do {
                return try server.query("SELECT id, deleted, has_conflicts, \(list) FROM cx.\(table) ORDER BY id")
            } catch {
                result.other.append("cannot read cx.\(table): \(error) (seed \(config.seed))")
                return nil
            }
        }
        var seen = Set<String>()
        for (table, columns) in [("customers", customerColumns), ("activities", activityColumns)] {
            guard let rows = select(table, columns) else { return }
            for row in rows where row.count == columns.count + 3 {
                let id = row[0]
                seen.insert(id)
                guard let record = reference[id] else {
                    result.diverged.append("server row cx.\(table) \(id) is not in an admin's view (seed \(config.seed))")
                    continue
                }
                let fields = record["fields"] as? [String: Any] ?? [:]
                var differences: [String] = []
                for (index, column) in columns.enumerated() {
                    let shown = JSON.text(fields[column]) ?? null
                    if row[index + 3] != shown { differences.append("\(column): column '\(row[index + 3])' vs shown '\(shown)'") }
                }
                let conflicted = !((record["conflicts"] as? [Any]) ?? []).isEmpty
                if (row[2] == "t") != conflicted { differences.append("has_conflicts \(row[2]) vs \(conflicted)") }
                if differences.isEmpty { continue }
                result.diverged.append(
                    "server \(table) \(id): typed columns differ from the state: \(differences.joined(separator: "; ")) (seed \(config.seed))")
            }
        }
        for id in reference.keys where !seen.contains(id) {
            result.diverged.append("record \(id) is shown to an admin but has no server row (seed \(config.seed))")
        }
    }

    /// (a) every replica shows exactly the auditor's records that its scope covers.
    private func checkReplicas(against reference: [String: [String: Any]]) {
        for replica in replicas {
            guard let records = replica.allRecords() else {
                result.brokenCaches.append("\(replica.name): cannot list its records (seed \(config.seed))")
                continue
            }
            let refused = refusedIds[replica.name] ?? []
            var visibleCustomers = Set<String>()
            var expected: [String: [String: Any]] = [:]
            for (id, record) in reference where record["kind"] as? String == "customer" {
                let territory = JSON.text((record["fields"] as? [String: Any])?["territory"])
                if replica.scope.sees(territory: territory) {
                    visibleCustomers.insert(id)
                    expected[id] = record
                }
            }
            for (id, record) in reference where record["kind"] as? String == "activity" {
                let customer = JSON.text((record["fields"] as? [String: Any])?["customer_id"]) ?? ""
                if visibleCustomers.contains(customer) { expected[id] = record }
            }
            for id in Set(expected.keys).union(records.keys).sorted() where !refused.contains(id) {
                let mine = records[id], theirs = expected[id]
                if let mine, let theirs {
                    let a = JSON.canonical(mine), b = JSON.canonical(theirs)
                    if a != b {
                        result.diverged.append(
                            "\(replica.name) (\(replica.scope)) differs from the server on \(id):\n      replica: \(a)\n      server:  \(b)\n      (seed \(config.seed))")
                    }
                } else if mine == nil {
                    result.diverged.append(
                        "\(replica.name) (\(replica.scope)) lacks \(id), which the server has in its scope: \(JSON.canonical(theirs!)) (seed \(config.seed))")
                } else {
                    result.diverged.append(
                        "\(replica.name) (\(replica.scope)) shows \(id), which the server does not give its scope: \(JSON.canonical(mine!)) (seed \(config.seed))")
                }
            }
        }
    }

    /// (b) every acknowledged write is shown, or a conflict candidate, or replaced by a write that
    /// may have seen it; records refused by the documented rules are reported, not counted lost.
    /// A write to a customer merged into another (its tombstone points to the survivor) must
    /// stand on the survivor (or on the survivor's survivor…): a value left only on the
    /// tombstone is seen by no one.
    private func checkWrites(against reference: [String: [String: Any]]) {
        let (expectedRefusals, unexpectedRefusals) = classifyRefusals(against: reference)
        let allRefused = Set(expectedRefusals.keys)
        let byRecord = Dictionary(grouping: ledger.writes, by: \.record)
        result.rolledBack = ledger.rolledBack.count
        for write in ledger.writes where write.acknowledged && !ledger.rolledBack.contains(write.id) {
            let later = byRecord[write.record, default: []].filter { $0.possiblySaw.contains(write.id) }
            func describe(_ problem: String) -> String {
                let extra = write.circumstances.isEmpty ? "" : " [\(write.circumstances.joined(separator: ", "))]"
                return "write #\(write.id) at step \(write.step) by \(write.replica): \(write.field)=\(write.value) on \(write.record)\(extra): \(problem)\n      command: \(write.command)\n      reproduce: \(config.reproduction)"
            }
            guard let record = reference[write.record] else {
                if let why = unexpectedRefusals[write.record] {
                    result.lost.append(describe("refused by the server although the user's scope allows it (\(why))"))
                } else if allRefused.contains(write.record) {
                    result.refused.append(describe("refused by the server, pending on the laptop (\(expectedRefusals[write.record] ?? ""))"))
                } else {
                    result.lost.append(describe("the record is not on the server"))
                }
                continue
            }
            // The pointer and the delete of a merge are the tombstone's own; every other write
            // to a merged customer belongs on its survivor.
            // Merges that crossed (A into B here, B into A there) are undone for the cycle's
            // smallest id, restored as the survivor: its own merge writes are replaced.
            let isMergeWrite = write.field == FaultRun.mergePointer || (write.field == "deleted" && write.value.hasPrefix(Ledger.mergePrefix))
            if isMergeWrite && isRestoredCycleSurvivor(write.record, record: record, reference: reference) { continue }
            let redirected = FaultRun.isMergedTombstone(record) && write.field != "deleted" && write.field != FaultRun.mergePointer
            var (kept, shown) = FaultRun.stands(write, in: record, replacedBy: later, countingValues: !redirected)
            if redirected { result.checkedOnSurvivors += 1 }
            // A clear is no value to carry: a merge fills the survivor's gaps with the duplicate's
            // values and leaves the survivor's own values alone. A clear the duplicate shows
            // undisputed therefore stands as it is; a clear in conflict with a value must stay
            // a candidate on the survivor (the merge may not choose the value silently).
            if redirected && !kept && write.value == Write.cleared {
                let fields = record["fields"] as? [String: Any] ?? [:]
                let disputed = (record["conflicts"] as? [[String: Any]] ?? []).contains { $0["field"] as? String == write.field }
                if !disputed && JSON.text(fields[write.field]) == nil { kept = true }
            }
            if redirected && !kept {
                for survivor in survivors(of: write.record, reference: reference) {
                    guard let target = reference[survivor] else { continue }
                    // Writes to the survivor that saw this write, or saw a write of the same value
                    // to the same field of the survivor (a merge adds nothing for a value the
                    // survivor already holds: that value then stands for both).
                    // (The same value may have reached the survivor from another customer merged into
                    // it, directly or through a chain of merges: seed 4100045.)
                    let onSurvivor = byRecord[survivor, default: []]
                    let sources = [survivor] + byRecord.keys.filter {
                        $0 != survivor && survivors(of: $0, reference: reference).contains(survivor)
                    }
                    let twins = Set(sources.flatMap { byRecord[$0, default: []] }
                        .filter { $0.field == write.field && $0.value == write.value && $0.id != write.id }.map(\.id))
                    let replacing = onSurvivor.filter { $0.possiblySaw.contains(write.id) || !$0.possiblySaw.isDisjoint(with: twins) }
                    // A survivor merged on in its turn shows nothing either: the chain goes on.
                    let (standsThere, _) = FaultRun.stands(
                        write, in: target, replacedBy: replacing, countingValues: !FaultRun.isMergedTombstone(target))
                    if standsThere {
                        kept = true
                        break
                    }
                }
                if !kept {
                    shown += " on the merged tombstone (merged into \(survivors(of: write.record, reference: reference).joined(separator: " → "))), not on the survivor"
                }
            }
            // A merge into this customer made after seeing a clear fills the cleared field with
            // the duplicate's value, as documented (a cleared field is a gap to fill) — also when
            // this customer was merged on in its turn later: the value that filled the gap is
            // what it carried to its survivor (seed 2400004).
            if !kept && write.value == Write.cleared
                && ledger.writes.contains(where: {
                    $0.field == "deleted" && $0.value == Ledger.mergePrefix + write.record && $0.possiblySaw.contains(write.id)
                })
            {
                kept = true
            }
            // An activity moved to a customer merged later follows it to the survivor (the merge
            // moves it, or the redirect of a later sync).
            if !kept && write.field == "customer_id",
                let customer = JSON.text((record["fields"] as? [String: Any])?["customer_id"]),
                survivors(of: write.value, reference: reference).contains(customer)
            {
                kept = true
            }
            if kept { continue }
            if let why = unexpectedRefusals[write.record] {
                // Refused although the writer's scope allows it: the write reaches no one.
                result.lost.append(describe("\(shown) on the server; refused although the user's scope allows it (\(why))"))
            } else if allRefused.contains(write.record) {
                result.refused.append(describe("refused by the server, pending on the laptop (\(shown) on the server; \(expectedRefusals[write.record] ?? ""))"))
            } else {
                result.lost.append(describe("\(shown) on the server, no candidate, no later write saw it"))
            }
        }
    }

    /// (b, merges) no live activity is left on a merged customer: a merge moves the activities it
    /// sees, and a laptop that holds the survivor moves those it did not see (added offline, or
    /// moved there) on its next sync — an activity left behind is shown under no live customer.
    /// And no merged customer is left in the keep/delete conflict its late edits cause.
    private func checkMerges(against reference: [String: [String: Any]]) {
        for (id, activity) in reference.sorted(by: { $0.key < $1.key }) where activity["kind"] as? String == "activity" {
            guard !(activity["deleted"] as? Bool ?? false),
                let customer = JSON.text((activity["fields"] as? [String: Any])?["customer_id"]),
                let owner = reference[customer], FaultRun.isMergedTombstone(owner)
            else { continue }
            let pointer = JSON.text((owner["fields"] as? [String: Any])?[FaultRun.mergePointer]) ?? "?"
            // The chain of merges may end at a customer someone deleted since (seed 5300017: a
            // crossed merge repaired, its elected survivor then deleted by a rep): there is no live
            // customer to move the activity to, exactly as for an activity added offline to a
            // customer deleted meanwhile.
            var end = pointer
            for _ in 0..<16 {
                guard let next = reference[end], FaultRun.isMergedTombstone(next),
                    let onward = JSON.text((next["fields"] as? [String: Any])?[FaultRun.mergePointer])
                else { break }
                end = onward
            }
            if let last = reference[end], last["deleted"] as? Bool ?? false, !FaultRun.isMergedTombstone(last) { continue }
            result.lost.append(
                "activity \(id) stays on customer \(customer), merged into \(pointer): not moved to the survivor\n      reproduce: \(config.reproduction)")
        }
        // A merged customer edited elsewhere after the merge shows a keep/delete conflict until
        // a laptop that holds its survivor moves those edits there and deletes it again; every
        // home has synced until quiet, the admin's among them, so none may remain — unless
        // someone chose to keep the duplicate (a `keep` resolution) or its survivor is gone.
        for (id, customer) in reference.sorted(by: { $0.key < $1.key }) where customer["kind"] as? String == "customer" {
            let fields = customer["fields"] as? [String: Any] ?? [:]
            let conflicts = customer["conflicts"] as? [[String: Any]] ?? []
            guard !(customer["deleted"] as? Bool ?? false), let pointer = JSON.text(fields[FaultRun.mergePointer]),
                conflicts.contains(where: { $0["field"] as? String == "deleted" }),
                !ledger.writes(of: id).contains(where: { $0.field == "deleted" && $0.value == "keep" })
            else { continue }
            var end = pointer
            for _ in 0..<16 {
                guard let next = reference[end], let onward = JSON.text((next["fields"] as? [String: Any])?[FaultRun.mergePointer])
                else { break }
                end = onward
            }
            guard let survivor = reference[end], !(survivor["deleted"] as? Bool ?? false) else { continue }
            result.lost.append(
                "customer \(id), merged into \(pointer), still stands in a keep/delete conflict: the edits made to it after the merge were not moved to its survivor \(end)\n      reproduce: \(config.reproduction)")
        }
    }

    /// The field a merge writes on the dropped customer: the survivor's id.
    static let mergePointer = "extra.merged_into"

    /// A deleted customer whose displayed fields point to a survivor.
    static func isMergedTombstone(_ record: [String: Any]) -> Bool {
        (record["deleted"] as? Bool ?? false) && JSON.text((record["fields"] as? [String: Any])?[mergePointer]) != nil
    }

    /// Every customer `record` was (or may have been) merged into, following merges of merged
    /// survivors: the merges in the ledger (acknowledged or not) and the pointers the server
    /// shows, displayed or as a conflict candidate.
    /// Whether `id`, live on the server, is the customer restored when merges crossed: one of
    /// its own merges led into a chain of merged customers that the server shows leading back
    /// to it, and it is the smallest id on that cycle (the survivor every replica elects).
    private func isRestoredCycleSurvivor(_ id: String, record: [String: Any], reference: [String: [String: Any]]) -> Bool {
        guard !(record["deleted"] as? Bool ?? false), !FaultRun.isMergedTombstone(record) else { return false }
        for target in ledger.mergeTargets(of: id) {
            var path = [id]
            var next = target
            while path.count < 32, !path.contains(next), let shown = reference[next], FaultRun.isMergedTombstone(shown) {
                path.append(next)
                guard let pointer = JSON.text((shown["fields"] as? [String: Any])?[FaultRun.mergePointer]) else { break }
                next = pointer
            }
            if next == id && path.min() == id { return true }
        }
        return false
    }

    private func survivors(of record: String, reference: [String: [String: Any]]) -> [String] {
        var found: [String] = []
        var queue = [record]
        while let next = queue.first, found.count < 32 {
            queue.removeFirst()
            var targets = ledger.mergeTargets(of: next)
            if let shown = reference[next] {
                if let pointer = JSON.text((shown["fields"] as? [String: Any])?[FaultRun.mergePointer]) { targets.append(pointer) }
                for conflict in (shown["conflicts"] as? [[String: Any]] ?? []) where conflict["field"] as? String == FaultRun.mergePointer {
                    targets += ((conflict["candidates"] as? [[String: Any]]) ?? []).compactMap { JSON.text($0["value"]) }
                }
            }
            for target in targets where target != record && !found.contains(target) {
                found.append(target)
                queue.append(target)
            }
        }
        return found
    }

    /// Whether `write` stands in `record` as the auditor shows it: its value displayed or a
    /// conflict candidate (only when `countingValues`), or replaced by one of `replacedBy` (writes
    /// that may have seen it) — a later write to the field, or a delete the record shows.
    /// Returns what the record shows instead, for messages.
    static func stands(_ write: Write, in record: [String: Any], replacedBy later: [Write], countingValues: Bool) -> (Bool, String) {
        let fields = record["fields"] as? [String: Any] ?? [:]
        let conflicts = record["conflicts"] as? [[String: Any]] ?? []
        let deleted = record["deleted"] as? Bool ?? false
        func candidates(_ field: String) -> [String] {
            conflicts.filter { $0["field"] as? String == field }
                .flatMap { ($0["candidates"] as? [[String: Any]]) ?? [] }
                .map { JSON.text($0["value"]) ?? Write.cleared }
        }
        // A delete made after seeing the write replaces it (and every other field) — whether
        // the record now shows deleted, or stands in a keep/delete conflict in which that
        // delete is a candidate and the record shows the concurrent edits kept against it.
        let deletedLater = (deleted || candidates("deleted").contains("delete"))
            && later.contains { $0.field == "deleted" && $0.value == "delete" }
        let replacedLater = later.contains { $0.field == write.field && $0.id != write.id }
        switch write.field {
        case "deleted":
            let shown = deleted ? "deleted" : "not deleted"
            if write.value == "keep" { return (!deleted || replacedLater, shown) }
            // A delete, or a merge (the dropped customer's delete).
            return (deleted || !candidates("deleted").isEmpty || replacedLater, shown)
        case let field where field.hasPrefix("tag:"):
            let tags = (record["tags"] as? [String]) ?? []
            guard write.value == "+" else { return (true, "tags \(tags)") }  // removals lose to concurrent adds by design
            let tag = String(field.dropFirst(4))
            return ((countingValues && tags.contains(tag)) || replacedLater || deletedLater, "tags \(tags)")
        default:
            let value = JSON.text(fields[write.field]) ?? Write.cleared
            let present = value == write.value || candidates(write.field).contains(write.value)
            return ((countingValues && present) || replacedLater || deletedLater, "shown '\(value)'")
        }
    }

    /// Splits the records replicas still hold refused into those the documented rules refuse
    /// and the others (a bug: the server refused a write the user may make). The rules refuse
    /// a customer — or an activity of one — whose territory, as the laptop shows it, the user
    /// does not hold, and a change of territory of a customer that has meanwhile left the user's
    /// territories on the server (`territory_not_held`: someone moved it concurrently; the
    /// laptop still shows its own move, so its view alone cannot tell), and the tombstone of a
    /// merge waiting for its refused survivor (`merge_waiting`, the client's own code).
    private func classifyRefusals(
        against reference: [String: [String: Any]]
    ) -> (expected: [String: String], unexpected: [String: String]) {
        var expected: [String: String] = [:], unexpected: [String: String] = [:]
        for replica in replicas {
            for (id, why) in refusalReasons[replica.name] ?? [:] {
                let shown = JSON.object(replica.cx("show", [id, "--json"]).stdout)
                var fields = shown?["fields"] as? [String: Any] ?? [:]
                var customerID = id
                if shown?["kind"] as? String == "activity", let customer = JSON.text(fields["customer_id"]) {
                    customerID = customer
                    fields = JSON.object(replica.cx("show", [customer, "--json"]).stdout)?["fields"] as? [String: Any] ?? [:]
                }
                let territory = JSON.text(fields["territory"])
                let centralFields = reference[customerID]?["fields"] as? [String: Any]
                let centralTerritory = JSON.text(centralFields?["territory"])
                let leftScopeMeanwhile = centralFields != nil && !replica.scope.sees(territory: centralTerritory)
                    && why.contains("territory_not_held")
                // A merge's tombstone held back for its survivor: the survivor's own refusal
                // is judged on its own; the held merge leaves the duplicate as the server has it.
                let heldMerge = why.contains("merge_waiting")
                if replica.scope.sees(territory: territory) && !why.hasPrefix("kept") && !leftScopeMeanwhile && !heldMerge {
                    unexpected[id] = "\(replica.name), territory \(territory ?? "(none)"): \(why)"
                } else {
                    expected[id] = "\(replica.name): \(why)"
                }
            }
        }
        return (expected, unexpected)
    }
}
