import CXModel
import CXPostgres
import Logging

extension RecordStore {
    /// Merges `states` into storage in one transaction, within `writer`'s scope.
    ///
    /// Every record is decided on its own: a refused record is reported in the outcome and
    /// leaves no trace, the others are written together with their audit rows, the territory
    /// exits of customers that moved, and new sequence numbers for the activities of customers
    /// that arrived or moved (so the users of their new territory pull them). `beforeCommit`
    /// is a test hook that runs inside the transaction after the writes.
    ///
    /// With a `claim`, the replica is admitted first (``ReplicaRegistry/admit(_:by:on:)``): a
    /// restored or copied replica gets `409 replica_forked` and nothing is written.
    func push(
        _ states: [RecordState], as writer: Writer = .system(), claim: ReplicaRegistry.Claim? = nil, logger: Logger,
        beforeCommit: (@Sendable () throws -> Void)? = nil
    ) async throws -> PushOutcome {
        guard !states.isEmpty else {
            // A request that writes nothing and carries no tokens (an older client pulling)
            // cannot harm anyone: it needs no admission.
            if let claim, claim.nextToken != nil { try await admit(claim, by: writer) }
            return PushOutcome()
        }
        return try await push(PreparedPush(states), as: writer, claim: claim, beforeCommit: beforeCommit)
    }

    /// Merges `prepared` in a transaction of its own (see ``push(_:as:claim:logger:beforeCommit:)``);
    /// `first` puts it ahead of other work waiting for a pooled connection.
    func push(
        _ prepared: PreparedPush, as writer: Writer, claim: ReplicaRegistry.Claim?, first: Bool = false,
        beforeCommit: (@Sendable () throws -> Void)? = nil
    ) async throws -> PushOutcome {
        try await pool.withConnection(first: first) { connection in
            // The writer's access as it stands now (read with the BEGIN), before anything is
            // admitted or written.
            try connection.transaction(opening: Authentication.currentVersionSQL) { connection, version in
                let push = try Self.confirm(prepared, by: writer, atVersion: try Authentication.version(in: version), on: connection)
                if let claim { try ReplicaRegistry.admit(claim, by: push.writer, on: connection) }
                let epoch = try ServerEpoch.takingSequenceLock(on: connection)
                var result = try Self.merge(push.prepared, as: push.writer, on: connection)
                result.epoch = epoch
                result.authentication = push.reread
                try beforeCommit?()
                return result
            }
        }
    }

    /// Admits `claim` for `writer` in a transaction of its own (see
    /// ``ReplicaRegistry/admit(_:by:on:)``), or throws `409 replica_forked`.
    func admit(_ claim: ReplicaRegistry.Claim, by writer: Writer) async throws {
        try await pool.withConnection { connection in
            try connection.transaction { connection in try ReplicaRegistry.admit(claim, by: writer, on: connection) }
        }
    }

    /// Takes the transaction-scoped sequence lock (see ``RecordStore``), held until the caller's
    /// transaction ends. Take replica admissions (row locks on `cx.replicas`) before it, never
    /// after, so that every writer takes the two kinds of lock in one order.
    static func takeSequenceLock(on connection: PostgresConnection) throws {
        try connection.query("SELECT pg_advisory_xact_lock(\(Self.sequenceLockKey))", preparedAs: "cx_sequence_lock")
    }

    /// `count` new sequence numbers in increasing order, for rows written by COPY (the caller's
    /// transaction holds the sequence lock, so no pull's cursor passes them before they commit).
    static func sequenceNumbers(_ count: Int, on connection: PostgresConnection) throws -> [Int64] {
        let numbers = try connection.query(
            "SELECT nextval('cx.change_seq') AS seq FROM generate_series(1, \(count)::integer) ORDER BY 1", preparedAs: "cx_sequence_numbers"
        ).map { try $0.decode("seq", as: Int64.self) }
        guard numbers.count == count else {
            throw PostgresError(.queryFailed, "asked for \(count) sequence numbers and got \(numbers.count)")
        }
        return numbers
    }

    /// Merges `prepared` into storage within `writer`'s scope: the body of a push, run inside a
    /// transaction that already holds the sequence lock (and has admitted the replica). Reads
    /// and writes nothing outside that transaction, so several pushes can share one (see
    /// ``PushCoalescer`` and ``SharedMerge``) and each gets the outcome it would have had alone.
    static func merge(_ prepared: PreparedPush, as writer: Writer, on connection: PostgresConnection) throws -> PushOutcome {
        var reads = try PushReads([(prepared, writer)], on: connection)
        return try SharedMerge.merge([(prepared, writer)], reads: &reads, on: connection)[0]
    }

    /// What one push decided before its writes go out: its outcome (without echoes), the
    /// writes, and the records it left exactly as sent.
    struct MergeDecision {
        var outcome: PushOutcome
        var writes: [RecordWriteSet.Write]
        var echoIDs: [String]
    }

    /// Decides every record of `prepared` against what `reads` holds (read for it, and possibly
    /// for other pushes of the same transaction) and registers the replicas its accepted states
    /// introduce; then tells `reads` what it will write. The caller writes
    /// ``MergeDecision/writes`` before any later push that touches the same records decides
    /// (``SharedMerge``).
    static func decide(
        _ prepared: PreparedPush, as writer: Writer, reads: inout PushReads, on connection: PostgresConnection
    ) throws -> MergeDecision {
        let customers = prepared.customers
        let activities = prepared.activities
        var result = PushOutcome(rejected: prepared.rejectedEarly)
        try reads.refresh((customers + activities).map(\.id), on: connection)
        let stored = reads.stored
        var clocks = ClockAuthority(writer: writer, owners: reads.owners)
        // Taken out of `reads` while this push decides, so adding to it copies nothing (a copy
        // per push of a group's facts, under the sequence lock, otherwise).
        var facts = ScopeFactsCache(scope: reads.facts.scope)
        swap(&facts, &reads.facts)
        var writes: [RecordWriteSet.Write] = []
        var echoIDs: [String] = []

        // Customers first, so activities are judged by where their customer ends up.
        for state in customers + activities {
            let current = stored[state.id]
            if let current, current.kind != state.kind {
                result.rejected.append(Self.kindMismatch(state, current))
                continue
            }
            let soundAlone = prepared.soundAlone.contains(state.id)
            if let refusal = clocks.refusal(state, stored: current, checkedAlone: soundAlone) {
                result.rejected.append(refusal)
                continue
            }
            if !prepared.withinLimits.contains(state.id), let violation = state.lengthViolation(notCoveredBy: current?.clock) {
                result.rejected.append(
                    Rejection(
                        id: state.id, code: .invalidRecord,
                        message: "\(violation.description); the record was not written — shorten the value on the replica that sent it (cx edit) and sync again"))
                continue
            }
            let merged = current?.merging(state) ?? state
            let isEcho = merged == state && !prepared.joined.contains(state.id)
            if let current, merged == current {
                result.unchanged += 1
                if isEcho { echoIDs.append(state.id) }
                if try Self.isOutsideScope(merged, of: writer, facts: &facts, on: connection) { result.outOfScope.append(merged.id) }
                continue
            }
            // A new record's merge is its state, checked before the lock.
            if !(current == nil && soundAlone), let refusal = Self.mergedRefusal(merged) { result.rejected.append(refusal); continue }
            if let refusal = try Self.scopeRefusal(merged, replacing: current, by: writer, facts: &facts, on: connection) {
                result.rejected.append(refusal)
                continue
            }
            // A new record is the state as sent: its rows were encoded before the lock.
            writes.append(.init(merged: merged, previous: current, writer: writer, encoded: current == nil ? prepared.encodedInserts[state.id] : nil))
            clocks.accept(state, stored: current)
            if isEcho { echoIDs.append(state.id) }
            if try Self.isOutsideScope(merged, of: writer, facts: &facts, on: connection) { result.outOfScope.append(merged.id) }
        }
        try clocks.registerNewReplicas(on: connection)
        result.written = writes.count
        reads.facts = facts
        reads.wrote(writes.map(\.merged.id), registered: clocks.registered, to: writer.userID)
        return MergeDecision(outcome: result, writes: writes, echoIDs: echoIDs)
    }

    /// The last sequence number handed out; under the sequence lock, every number handed out
    /// so far and none after it.
    static func lastSequence(on connection: PostgresConnection) throws -> Int64? {
        try connection.query("SELECT last_value FROM cx.change_seq", preparedAs: "cx_last_sequence").first?.decode("last_value", as: Int64.self)
    }

    /// Why `writer` may not write `merged` over `current`, or `nil` when they may; an accepted
    /// customer's new territory is recorded in `facts` for the activities that follow.
    private static func scopeRefusal(
        _ merged: RecordState, replacing current: RecordState?, by writer: Writer, facts: inout ScopeFactsCache,
        on connection: PostgresConnection
    ) throws -> Rejection? {
        guard !writer.scope.isUnrestricted else { return nil }
        switch merged.kind {
        case .customer:
            let territory = merged.displayedValue("territory")
            let currentFacts = try current.flatMap {
                try facts.customer($0.id, on: connection)
            }
            if let refusal = writer.scope.refusal(customer: merged.id, stored: currentFacts, mergedTerritory: territory) {
                return refusal
            }
            facts.accept(merged.id, territory: territory)
            return nil
        case .activity:
            var customerIDs: [String] = []
            for id in [current?.displayedValue("customer_id"), merged.displayedValue("customer_id")] {
                if let id, !customerIDs.contains(id) { customerIDs.append(id) }
            }
            let named = try customerIDs.map { (id: $0, facts: try facts.customer($0, on: connection)) }
            guard let refusal = writer.scope.refusal(activity: merged.id, customers: named) else { return nil }
            // An activity moved out of the user's territories (to a customer elsewhere, by a
            // merge or a move) within the hand-off window takes their offline edits like a
            // customer that left — as long as they do not move it themselves.
            if refusal.code == .outOfScope, current != nil, customerIDs.count == 1,
                try writer.scope.mayHandOff(currentTerritory: nil, recentlyLeft: Self.recentExits(ofActivity: merged.id, on: connection))
            {
                return nil
            }
            return refusal
        }
    }

    /// The territories activity `id` left (moved to a customer elsewhere) within the hand-off window.
    private static func recentExits(ofActivity id: String, on connection: PostgresConnection) throws -> Set<String> {
        var territories: Set<String> = []
        for row in try connection.query(
            PostgresQuery(
                unsafeSQL: "SELECT territory FROM cx.activity_exits WHERE activity_id = $1::uuid AND exited_at > cx.handoff_since()",
                binds: [id]), preparedAs: "cx_activity_exits_of")
        {
            territories.insert(try row.decode("territory", as: String.self))
        }
        return territories
    }

    /// Whether `merged`, just accepted from `writer`, is outside the writer's scope: an edit
    /// pushed in the hand-off window to a customer that has left their territories (or an
    /// activity of one). The reply lists it as `removed`, so the laptop lets go of it once its
    /// write is acknowledged — a pull will never deliver it, nor report it removed again.
    private static func isOutsideScope(
        _ merged: RecordState, of writer: Writer, facts: inout ScopeFactsCache, on connection: PostgresConnection
    ) throws -> Bool {
        guard !writer.scope.isUnrestricted else { return false }
        switch merged.kind {
        case .customer:
            return !writer.scope.holds(merged.displayedValue("territory"))
        case .activity:
            guard let customerID = merged.displayedValue("customer_id") else { return true }
            return !writer.scope.holds(try facts.customer(customerID, on: connection)?.territory)
        }
    }

    /// The stored states of `ids`, locked for update until the transaction ends.
    static func lockStates(ids: [String], on connection: PostgresConnection) throws -> [String: RecordState] {
        try lockRows(ids: ids, on: connection).states
    }

    /// The stored rows of `ids`, customers and activities, locked for update until the
    /// transaction ends: one statement reads both tables, and with each customer its territory
    /// column, which is what a restricted writer's scope decisions need to know of it. With
    /// `replicas`, the same statement reads who owns them in the replica registry
    /// (``StoredRows/owners``): one round trip less while a push holds the sequence lock.
    static func lockRows(ids: [String], ownersOf replicas: Set<String> = [], on connection: PostgresConnection) throws -> StoredRows {
        var rows = StoredRows(read: Set(ids))
        guard !ids.isEmpty || !replicas.isEmpty else { return rows }
        let idArray = "{" + ids.joined(separator: ",") + "}"
        let found = try connection.query(
            """
            WITH customers AS (SELECT state::text AS state, territory FROM cx.customers WHERE id = ANY(\(idArray)::uuid[]) FOR UPDATE),
                 activities AS (SELECT state::text AS state FROM cx.activities WHERE id = ANY(\(idArray)::uuid[]) FOR UPDATE)
            SELECT 'c' AS source, state, territory, NULL::text AS replica, NULL::bigint AS owner FROM customers
            UNION ALL
            SELECT 'a', state, NULL, NULL, NULL FROM activities
            UNION ALL
            SELECT 'r', NULL, NULL, replica_id, user_id FROM cx.replicas WHERE replica_id = ANY(\(PostgresArrayLiteral.text(replicas))::text[])
            """, preparedAs: "cx_lock_rows_and_owners")
        for row in found {
            let source = try row.decode("source", as: String.self)
            if source == "r" {
                rows.owners[try row.decode("replica", as: String.self)] = .some(try row.decode("owner", as: Int64?.self))
                continue
            }
            // Read as stored: states written under earlier value rules stay readable.
            let state = try RecordState(jsonString: try row.decode("state", as: String.self), values: .stored)
            rows.states[state.id] = state
            if source == "c" {
                rows.customerTerritories[state.id] = .some(try row.decode("territory", as: String?.self))
            }
        }
        return rows
    }

    /// What ``lockRows(ids:on:)`` found.
    struct StoredRows {
        /// The ids asked for: any not among ``states`` has no stored row.
        var read: Set<String>
        /// Stored states by id.
        var states: [String: RecordState] = [:]
        /// The territory column of each stored customer among them (`nil`: none).
        var customerTerritories: [String: String?] = [:]
        /// Who owns each replica asked for: the user id, `.some(nil)` for a replica registered to
        /// no one (seen only in clocks from before the registry), absent when never seen.
        var owners: [String: Int64?] = [:]
    }

    private static func kindMismatch(_ state: RecordState, _ current: RecordState) -> Rejection {
        Rejection(
            id: state.id, code: .kindMismatch,
            message: "record \(state.id) is stored as a \(current.kind.rawValue), not a \(state.kind.rawValue)")
    }
}

/// What a restricted writer's push needs to know about customers, read once per customer
/// inside the push transaction, and updated by the customers this push writes.
struct ScopeFactsCache {
    let scope: AccessScope
    private var known: [String: CustomerScopeFacts?] = [:]

    init(scope: AccessScope) {
        self.scope = scope
    }

    /// Reads what the server knows of the customers `ids` (any not found are recorded as
    /// unknown), in two statements whatever their number; customers among `rows` (read by
    /// ``RecordStore/lockRows(ids:on:)`` in the same transaction) are not read again, and only
    /// customers that exist have exits to read.
    mutating func prefetch(_ ids: [String], reading rows: RecordStore.StoredRows? = nil, on connection: PostgresConnection) throws {
        guard !scope.isUnrestricted else { return }
        let wanted = Set(ids.filter { RecordID.canonical($0) == $0 && known[$0] == nil })
        guard !wanted.isEmpty else { return }
        var facts: [String: CustomerScopeFacts] = [:]
        var unread: [String] = []
        for id in wanted {
            if let rows, rows.read.contains(id) {
                if let territory = rows.customerTerritories[id] { facts[id] = CustomerScopeFacts(territory: territory) }
            } else {
                unread.append(id)
            }
        }
        if !unread.isEmpty {
            let array = "{" + unread.joined(separator: ",") + "}"
            for row in try connection.query("SELECT id::text AS id, territory FROM cx.customers WHERE id = ANY(\(array)::uuid[])", preparedAs: "cx_scope_facts") {
                facts[try row.decode("id", as: String.self)] = CustomerScopeFacts(territory: try row.decode("territory", as: String?.self))
            }
        }
        if !facts.isEmpty {
            let array = "{" + facts.keys.joined(separator: ",") + "}"
            let exits = try connection.query(
                """
                SELECT customer_id::text AS id, territory FROM cx.territory_exits
                WHERE customer_id = ANY(\(array)::uuid[])
                  AND exited_at > cx.handoff_since()
                """, preparedAs: "cx_scope_exits")
            for row in exits {
                let id = try row.decode("id", as: String.self)
                facts[id]?.recentlyLeft.insert(try row.decode("territory", as: String.self))
            }
        }
        for id in wanted { known[id] = .some(facts[id]) }
    }

    /// What the server knows of customer `id` (`nil`: no such customer); read now if the
    /// prefetch did not name it.
    mutating func customer(_ id: String, on connection: PostgresConnection) throws -> CustomerScopeFacts? {
        if known[id] == nil { try prefetch([id], on: connection) }
        return known[id] ?? nil
    }

    /// Forgets what is known of `ids` (written since): the next question reads them again.
    mutating func forget(_ ids: [String]) {
        for id in ids { known[id] = nil }
    }

    /// Records that this push writes customer `id` with `territory`.
    mutating func accept(_ id: String, territory: String?) {
        let previous = known[id] ?? nil
        known[id] = .some(CustomerScopeFacts(territory: territory, recentlyLeft: previous?.recentlyLeft ?? []))
    }
}
