import Foundation

/// The random writes of the laptops: `cx add`, `edit` (fields, tags, territory moves), `rm`,
/// `purchase`, `touch`, `paid`, `resolve` and `merge`, each recorded in the ledger with its
/// outcome. (The central team's writes are in CentralWrites.swift and ERPLoad.swift.)
extension FaultRun {
    /// A planned write command: its arguments and the (field, value) writes it makes; `record`
    /// nil for a create (the id comes from the output).
    private struct Plan {
        var subcommand: String
        var arguments: [String]
        var record: String?
        var writes: [(field: String, value: String)]
        /// For creates: what the new record is (customer, purchase of customer X).
        var createsPurchaseOf: String?
        /// For writes whose value the command decides (a resolve by number): the value it
        /// reports having written, read from its output; replaces the planned value.
        var writtenValue: ((String) -> String?)?
    }

    private static let editableFields = ["company", "email", "phone", "city", "notes", "segment", "name"]

    /// Performs one random write on `replica`. `killAfter` kills `cx` after that many seconds;
    /// `clockOffset` runs it under `faketime`.
    func performWrite(
        on replica: ReplicaDriver, killAfter: Double? = nil, clockOffset: String? = nil, circumstances: [String] = []
    ) {
        // An operation may have nothing to work on (no conflicts, no purchases): try another.
        guard let plan = plan(for: replica) ?? plan(for: replica) ?? plan(for: replica) else { return }
        execute(plan, on: replica, killAfter: killAfter, clockOffset: clockOffset, circumstances: circumstances)
    }

    /// Edits a random field of one given customer (the restore and copy faults aim at records
    /// the same replica id wrote before, where a reused write id would hide the new write).
    func performEdit(of record: String, on replica: ReplicaDriver, circumstances: [String]) {
        let field = random.pick(FaultRun.editableFields) ?? "city"
        let newValue = value(replica, field)
        let plan = Plan(subcommand: "edit", arguments: [record, "--\(field)", newValue], record: record, writes: [(field, newValue)])
        execute(plan, on: replica, killAfter: nil, clockOffset: nil, circumstances: circumstances)
    }

    private func execute(
        _ plan: Plan, on replica: ReplicaDriver, killAfter: Double?, clockOffset: String?, circumstances: [String]
    ) {        let outcome = replica.cx(plan.subcommand, plan.arguments, killAfter: killAfter, clockOffset: clockOffset)
        noteHang(outcome, underFaketime: clockOffset != nil)
        log("\(replica.name): \(plan.subcommand) \(plan.arguments.joined(separator: " ")) → \(outcome.killed ? "killed" : "exit \(outcome.exitCode.map(String.init) ?? "?")")")
        guard outcome.succeeded || outcome.killed else { return }
        var record = plan.record
        if record == nil {
            // A create prints `{"id": …}`; a killed create's id is unknown (not tracked).
            record = JSON.object(outcome.stdout)?["id"] as? String
            if let record, let customer = plan.createsPurchaseOf { purchases.append((record, customer)) }
        }
        guard let record else { return }
        // `cx edit` of a field to the value it already shows writes nothing: no write to check.
        if outcome.succeeded && plan.subcommand == "edit" && outcome.stdout.hasPrefix("Unchanged") { return }
        if outcome.succeeded && plan.subcommand == "merge" { result.merges += 1 }
        var notes = circumstances
        if let clockOffset { notes.append("clock \(clockOffset)") }
        if outcome.killed { notes.append("killed") }
        for write in plan.writes {
            let value = outcome.succeeded ? plan.writtenValue?(outcome.stdout) ?? write.value : write.value
            ledger.record(
                replica: replica.name, record: record, field: write.field, value: value,
                command: "cx \(plan.subcommand) --home \(replica.home) \(Shell.quote(plan.arguments))",
                acknowledged: outcome.succeeded, step: step, circumstances: notes)
        }
    }

    /// A unique value for a field write.
    private func value(_ replica: ReplicaDriver, _ field: String) -> String {
        let token = "s\(step)-\(replica.name)-\(random.int(100...999))"
        switch field {
        case "email": return "\(token.replacingOccurrences(of: "+", with: "."))@example.com"
        case "phone": return "555-\(step)-\(random.int(1000...9999))"
        default: return "\(field)-\(token)"
        }
    }

    /// A territory for a new customer or a move: mostly one the user holds; reps sometimes try
    /// one they do not hold (the server must refuse it and `cx` must keep it pending).
    private func territory(for replica: ReplicaDriver, foreignChance: Double) -> String {
        let held = replica.scope.isAdmin ? FaultRun.territories : replica.scope.territories
        if random.chance(foreignChance) {
            let others = FaultRun.territories.filter { !held.contains($0) }
            if let other = random.pick(others) { return other }
        }
        return random.pick(held) ?? "north"
    }

    private func plan(for replica: ReplicaDriver) -> Plan? {
        let kinds = ["add", "edit", "tag", "move", "rm", "purchase", "touch", "paid", "resolve", "merge"]
        let kind = kinds[random.weighted([14, 32, 8, 6, 4, 8, 5, 5, 8, config.central ? 3 : 0])]
        if kind == "add" {
            let name = value(replica, "name")
            var phone = value(replica, "phone")
            // Sometimes the phone of a customer the laptop shows: a likely duplicate to merge.
            if config.central && random.chance(0.15),
                let twin = random.pick((replica.customers() ?? []).compactMap { JSON.text(($0["fields"] as? [String: Any])?["phone"]) })
            {
                phone = twin
            }
            let territory = territory(for: replica, foreignChance: 0.08)
            let tag = "t\(random.int(0...3))"
            return Plan(
                subcommand: "add",
                arguments: ["--name", name, "--phone", phone, "--territory", territory, "--tag", tag, "--json"],
                record: nil,
                writes: [("name", name), ("phone", phone), ("territory", territory), ("tag:\(tag)", "+")])
        }
        if kind == "resolve" {
            let listed = replica.cx("conflicts", ["--json"])
            guard listed.succeeded, let conflicts = JSON.array(listed.stdout), let conflict = random.pick(conflicts),
                let id = conflict["id"] as? String, let field = conflict["field"] as? String,
                let candidates = conflict["candidates"] as? [[String: Any]], !candidates.isEmpty
            else { return nil }
            let pick = random.int(1...candidates.count)
            guard let chosen = JSON.text(candidates[pick - 1]["value"]) else { return nil }
            // The numbers are those of the list as it stands when `cx resolve` runs: a concurrent
            // sync may renumber it meanwhile, so the value kept is read from its answer.
            return Plan(
                subcommand: "resolve", arguments: [id, field, "--pick", "\(pick)", "--json"], record: id,
                writes: [(field, chosen)], createsPurchaseOf: nil, writtenValue: { stdout in
                    guard let answer = JSON.object(stdout) else { return nil }
                    return JSON.text(answer["value"]) ?? Write.cleared
                })
        }
        if kind == "merge" {
            // A pair `cx duplicates` lists (most often, when there is one), else two customers
            // the laptop shows; recorded on the dropped one as its delete and its pointer.
            var pair: (keep: String, drop: String)?
            let listed = JSON.array(replica.cx("duplicates", ["--json"]).stdout) ?? []
            if random.chance(0.7), let duplicate = random.pick(listed),
                let first = duplicate["customer_id"] as? String, let second = duplicate["duplicate_id"] as? String
            {
                pair = random.chance(0.5) ? (first, second) : (second, first)
            } else if let customers = replica.customers() {
                let ids = customers.compactMap { $0["id"] as? String }
                if let keep = random.pick(ids), let drop = random.pick(ids.filter { $0 != keep }) { pair = (keep, drop) }
            }
            guard let pair else { return nil }
            return Plan(
                subcommand: "merge", arguments: [pair.keep, pair.drop, "--json"], record: pair.drop,
                writes: [("deleted", Ledger.mergePrefix + pair.keep), ("extra.merged_into", pair.keep)])
        }
        if kind == "paid" {
            guard let customers = replica.customers() else { return nil }
            let visible = Set(customers.compactMap { $0["id"] as? String })
            guard let purchase = random.pick(purchases.filter { visible.contains($0.customer) }) else { return nil }
            let date = String(format: "2026-%02d-%02d", random.int(1...11), random.int(1...28))
            return Plan(
                subcommand: "paid", arguments: [purchase.id, "--on", date], record: purchase.id,
                writes: [("paid_on", date)])
        }
        guard let customers = replica.customers(), let customer = random.pick(customers),
            let id = customer["id"] as? String
        else { return nil }
        switch kind {
        case "edit":
            let field = random.pick(FaultRun.editableFields) ?? "city"
            let newValue = value(replica, field)
            return Plan(subcommand: "edit", arguments: [id, "--\(field)", newValue], record: id, writes: [(field, newValue)])
        case "tag":
            let tag = "t\(random.int(0...3))"
            let sign = random.chance(0.6) ? "+" : "-"
            return Plan(subcommand: "edit", arguments: [id, "--tag", sign + tag], record: id, writes: [("tag:\(tag)", sign)])
        case "move":
            let target = territory(for: replica, foreignChance: replica.scope.role == "rep" ? 1 : 0.2)
            return Plan(
                subcommand: "edit", arguments: [id, "--territory", target], record: id, writes: [("territory", target)])
        case "rm":
            return Plan(subcommand: "rm", arguments: [id], record: id, writes: [("deleted", "delete")])
        case "purchase":
            let amount = "\(random.int(1...999)).\(random.int(1...9))\(random.int(1...9))"
            return Plan(
                subcommand: "purchase", arguments: [id, "--amount", amount, "--margin", "0.15", "--json"], record: nil,
                writes: [("amount", amount)], createsPurchaseOf: id)
        default:  // touch
            let note = value(replica, "note")
            return Plan(
                subcommand: "touch", arguments: [id, "--channel", "call", "--note", note, "--json"], record: nil,
                writes: [("note", note)])
        }
    }
}
