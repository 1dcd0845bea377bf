import Foundation

/// The central team's writes, made against the same server while the laptops edit offline, as
/// real users make them: SQL calls as a login role holding `cx_editor` (docs/sql-guide.md §7,
/// §9), ERP loads with `cx-server import` (docs/server.md, "Loading from the ERP") and duplicate
/// merges with `cx.merge_customers`. Each call that succeeds is an acknowledged write in the
/// ledger, by the server replica that made it (`sql:<role>`, `import`), which may have seen
/// everything the server may hold at that moment.
extension FaultRun {
    /// Login roles of the central team, created at setup with `cx_analyst` and `cx_editor`.
    static let sqlUsers = ["erin", "frank"]

    /// Creates the central team's login roles (docs/sql-guide.md §7.1); the embedded cluster
    /// trusts its socket, so they need no password.
    func createSQLUsers() throws {
        let statements = FaultRun.sqlUsers.map { "CREATE ROLE \($0) LOGIN; GRANT cx_analyst, cx_editor TO \($0);" }
        _ = try server.query(statements.joined(separator: " "))
    }

    /// One random write of the central team; a quarter of them while a laptop syncs.
    func performCentralWrite() {
        let kinds = ["set", "add-customer", "add-activity", "delete", "resolve", "merge", "import"]
        let kind = kinds[random.weighted([30, 8, 8, 4, 12, 8, 14])]
        if random.chance(0.25), let replica = random.pick(replicas) {
            log("central \(kind) while \(replica.name) syncs")
            ledger.synced(replica.name)
            let done = DispatchGroup()
            let outcome = Locked<CommandResult?>(nil)
            done.enter()
            let thread = Thread {
                let result = replica.cx("sync", ["--json"])
                outcome.withLock { $0 = result }
                done.leave()
            }
            thread.start()
            performCentral(kind, circumstances: ["while \(replica.name) synced"])
            done.wait()
            ledger.synced(replica.name)
            // `cx sync` documents 0, 3 (conflicts), 69 (server unavailable), 75 (sync lock), 77.
            if let synced = outcome.withLock({ $0 }), ![0, 3, 69, 75, 77].contains(synced.exitCode ?? -1) {
                result.other.append(
                    "sync of \(replica.name) during a central write at step \(step): \(synced.summary) (seed \(config.seed))")
            }
        } else {
            performCentral(kind, circumstances: [])
        }
    }

    private func performCentral(_ kind: String, circumstances: [String]) {
        let user = random.pick(FaultRun.sqlUsers) ?? "erin"
        switch kind {
        case "set": sqlSet(as: user, circumstances)
        case "add-customer": sqlAddCustomer(as: user, circumstances)
        case "add-activity": sqlAddActivity(as: user, circumstances)
        case "delete": sqlDelete(as: user, circumstances)
        case "resolve": sqlResolve(as: user, circumstances)
        case "merge": sqlMerge(as: user, circumstances)
        default: erpImport(circumstances)
        }
    }

    // MARK: - SQL as cx_editor

    /// Runs one SQL write as `user`; on success records `writes` (field, value) on `record` (or
    /// on the id the call returned when `record` is nil). A refusal the SQL guide documents is a
    /// note; anything else (an internal error, a deadlock, a lost connection) is a violation.
    @discardableResult
    private func sqlWrite(
        as user: String, _ sql: String, variables: [(String, String)], record: String?,
        writes: [(field: String, value: String)], circumstances: [String]
    ) -> String? {
        let outcome = server.psql(as: user, sql, variables: variables)
        let shown = variables.reduce(sql) { $0.replacingOccurrences(of: ":'\($1.0)'", with: "'\($1.1)'") }
        log("sql:\(user): \(shown) → \(outcome.succeeded ? "ok \(outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines))" : outcome.summary)")
        guard outcome.succeeded else {
            noteSQLRefusal(outcome, statement: shown)
            return nil
        }
        let returned = outcome.stdout.split(separator: "\n").first.map(String.init)?.trimmingCharacters(in: .whitespaces)
        guard let target = record ?? returned, !target.isEmpty else {
            result.other.append("`\(shown)` succeeded but returned no id (seed \(config.seed))")
            return nil
        }
        for write in writes {
            ledger.recordCentral(
                writer: "sql:\(user)", record: target, field: write.field, value: write.value,
                command: "psql user=\(user): \(shown)", step: step, circumstances: circumstances)
        }
        result.centralWrites += 1
        return returned
    }

    /// SQLSTATEs the SQL guide documents for refusals (§7.3, §9): bad value, no record, unknown
    /// customer, deleted/merged record or field not in conflict.
    private static let documentedSQLStates: Set<String> = ["22023", "P0002", "23503", "55000"]

    private func noteSQLRefusal(_ outcome: CommandResult, statement: String) {
        let line = outcome.stderr.split(separator: "\n").first { $0.contains("ERROR") }.map(String.init) ?? outcome.summary
        let state = line.range(of: #"ERROR:\s+([0-9A-Z]{5}):"#, options: .regularExpression).map {
            String(line[$0].dropFirst("ERROR:".count).trimmingCharacters(in: .whitespaces).prefix(5))
        }
        if let state, FaultRun.documentedSQLStates.contains(state) {
            result.centralRefusals += 1
            log("refused as documented: \(line)")
        } else {
            result.other.append("SQL write failed unexpectedly at step \(step): \(statement) → \(line) (seed \(config.seed))")
        }
    }

    /// Live records on the server, ordered (the seed decides which one is picked).
    private func liveCustomers() -> [(id: String, phone: String)] {
        ((try? server.query("SELECT id, coalesce(phone, '') FROM cx.customers WHERE NOT deleted ORDER BY id")) ?? [])
            .filter { $0.count == 2 }.map { ($0[0], $0[1]) }
    }

    private func liveActivities() -> [(id: String, type: String)] {
        ((try? server.query("SELECT id, type FROM cx.activities WHERE NOT deleted ORDER BY id")) ?? [])
            .filter { $0.count == 2 }.map { ($0[0], $0[1]) }
    }

    /// Customer fields the central team sets, and how often each is cleared (NULL) instead.
    private static let centralFields = ["company", "email", "phone", "city", "notes", "segment", "name", "owner", "territory"]
    private static let clearable: Set<String> = ["company", "email", "city", "notes", "segment", "owner"]

    /// A fresh value for `field` (unique, except territories), or nil for a clear.
    private func centralValue(_ field: String, by user: String) -> String? {
        if FaultRun.clearable.contains(field) && random.chance(0.1) { return nil }
        let token = "s\(step)-\(user)-\(random.int(100...999))"
        switch field {
        case "territory": return random.pick(FaultRun.territories) ?? "north"
        case "email": return "\(token)@example.com"
        case "phone": return "555-\(step)-\(random.int(1000...9999))"
        case "amount": return "\(random.int(1...999)).\(random.int(1...9))\(random.int(1...9))"
        case "paid_on": return String(format: "2026-%02d-%02d", random.int(1...11), random.int(1...28))
        default: return "\(field)-\(token)"
        }
    }

    /// `cx.set_field` or `cx.set_fields` of a customer (mostly) or an activity.
    private func sqlSet(as user: String, _ circumstances: [String]) {
        var record: String
        var fields: [String]
        if random.chance(0.2), let activity = random.pick(liveActivities()) {
            record = activity.id
            fields = activity.type == "purchase" ? ["note", "paid_on", "amount"] : ["note"]
        } else if let customer = random.pick(liveCustomers()) {
            record = customer.id
            fields = FaultRun.centralFields
        } else {
            return
        }
        let first = random.pick(fields) ?? "note"
        var chosen = [first]
        if random.chance(0.3), let second = random.pick(fields.filter { $0 != first }) { chosen.append(second) }
        let values = chosen.map { (field: $0, value: centralValue($0, by: user)) }
        let writes = values.map { (field: $0.field, value: $0.value ?? Write.cleared) }
        if values.count == 1 {
            let value = values[0]
            let sql = value.value == nil
                ? "SELECT cx.set_field(:'record', :'field', NULL);"
                : "SELECT cx.set_field(:'record', :'field', :'value');"
            sqlWrite(
                as: user, sql, variables: [("record", record), ("field", value.field)] + (value.value.map { [("value", $0)] } ?? []),
                record: record, writes: writes, circumstances: circumstances)
        } else {
            var object: [String: Any] = [:]
            for value in values { object[value.field] = value.value ?? NSNull() }
            sqlWrite(
                as: user, "SELECT cx.set_fields(:'record', :'fields'::jsonb);",
                variables: [("record", record), ("fields", JSON.canonical(object))], record: record, writes: writes,
                circumstances: circumstances)
        }
    }

    /// `cx.add_customer` with a name, a phone (sometimes an existing customer's: a duplicate) and a territory.
    private func sqlAddCustomer(as user: String, _ circumstances: [String]) {
        let name = "name-s\(step)-\(user)-\(random.int(100...999))"
        var phone = centralValue("phone", by: user) ?? "555-0000"
        if random.chance(0.2), let twin = random.pick(liveCustomers().filter { !$0.phone.isEmpty }) {
            phone = twin.phone
        }
        let territory = random.pick(FaultRun.territories) ?? "north"
        let object: [String: Any] = ["name": name, "phone": phone, "territory": territory]
        sqlWrite(
            as: user, "SELECT cx.add_customer(:'fields'::jsonb);", variables: [("fields", JSON.canonical(object))],
            record: nil, writes: [("name", name), ("phone", phone), ("territory", territory)], circumstances: circumstances)
    }

    /// `cx.add_activity`: a purchase (most often) or a touchpoint of a live customer.
    private func sqlAddActivity(as user: String, _ circumstances: [String]) {
        guard let customer = random.pick(liveCustomers()) else { return }
        let day = String(format: "2026-%02d-%02d", random.int(1...11), random.int(1...28))
        if random.chance(0.7) {
            let amount = centralValue("amount", by: user) ?? "10.00"
            let object: [String: Any] = ["customer_id": customer.id, "type": "purchase", "on": day, "amount": amount, "margin": "0.2"]
            if let id = sqlWrite(
                as: user, "SELECT cx.add_activity(:'fields'::jsonb);", variables: [("fields", JSON.canonical(object))],
                record: nil, writes: [("amount", amount)], circumstances: circumstances)
            {
                purchases.append((id, customer.id))
            }
        } else {
            let note = "note-s\(step)-\(user)-\(random.int(100...999))"
            let object: [String: Any] = ["customer_id": customer.id, "type": "touchpoint", "on": day, "channel": "call", "note": note]
            sqlWrite(
                as: user, "SELECT cx.add_activity(:'fields'::jsonb);", variables: [("fields", JSON.canonical(object))],
                record: nil, writes: [("note", note)], circumstances: circumstances)
        }
    }

    /// `cx.delete_record` of a live customer or activity.
    private func sqlDelete(as user: String, _ circumstances: [String]) {
        let id: String?
        if random.chance(0.3) { id = random.pick(liveActivities())?.id } else { id = random.pick(liveCustomers())?.id }
        guard let id else { return }
        sqlWrite(
            as: user, "SELECT cx.delete_record(:'record');", variables: [("record", id)], record: id,
            writes: [("deleted", "delete")], circumstances: circumstances)
    }

    /// `cx.resolve` of a conflict listed by `cx.conflicts`: a candidate (mostly) or a new value.
    private func sqlResolve(as user: String, _ circumstances: [String]) {
        let rows = ((try? server.query("SELECT record, field, candidates::text FROM cx.conflicts ORDER BY record, field")) ?? [])
            .filter { $0.count == 3 }
        guard let row = random.pick(rows) else { return }
        let (record, field) = (row[0], row[1])
        let candidates = (JSON.array(row[2]) ?? []).map { JSON.text($0["value"]) }
        guard !candidates.isEmpty else { return }
        var value: String?
        if FaultRun.centralFields.contains(field) && field != "territory" && random.chance(0.2) {
            value = centralValue(field, by: user)
        } else {
            value = random.pick(candidates) ?? nil
        }
        let sql = value == nil
            ? "SELECT cx.resolve(:'record', :'field', NULL);" : "SELECT cx.resolve(:'record', :'field', :'value');"
        sqlWrite(
            as: user, sql, variables: [("record", record), ("field", field)] + (value.map { [("value", $0)] } ?? []),
            record: record, writes: [(field, value ?? Write.cleared)], circumstances: circumstances)
    }

    /// `cx.merge_customers(keep, drop)`: a pair `cx.duplicate_candidates` lists (when there is
    /// one, most often), else two live customers. The merge is recorded on the dropped customer
    /// as its delete (`merge:KEEP`) and its pointer `extra.merged_into`.
    private func sqlMerge(as user: String, _ circumstances: [String]) {
        var pair: (keep: String, drop: String)?
        let candidates = ((try? server.query("SELECT customer_id, duplicate_id FROM cx.duplicate_candidates ORDER BY 1, 2")) ?? [])
            .filter { $0.count == 2 }
        if random.chance(0.7), let row = random.pick(candidates) {
            pair = random.chance(0.5) ? (row[0], row[1]) : (row[1], row[0])
        } else {
            let live = liveCustomers()
            if live.count >= 2, let keep = random.pick(live), let drop = random.pick(live.filter { $0.id != keep.id }) {
                pair = (keep.id, drop.id)
            }
        }
        guard let pair else { return }
        if sqlWrite(
            as: user, "SELECT cx.merge_customers(:'keep', :'drop');", variables: [("keep", pair.keep), ("drop", pair.drop)],
            record: pair.drop,
            writes: [("deleted", Ledger.mergePrefix + pair.keep), ("extra.merged_into", pair.keep)],
            circumstances: circumstances) != nil
        {
            result.merges += 1
        }
    }
}
