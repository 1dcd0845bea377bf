import CXModel
import CXPostgres

/// What the pushes of one transaction read before they merge, read once for all of them: the
/// stored states of every pushed record (locked for update), the owners of the replicas the
/// pushed clocks advance, and what the scope decisions need to know of the customers they name.
///
/// The pushes then merge one after another, and each must see the writes of those before it
/// exactly as if they had committed first: after each push, ``wrote(_:registered:to:)`` marks
/// what it changed, and the next push re-reads those records and customers from the database
/// (inside the same transaction) before it decides anything about them. Pushes that touch
/// different records — nearly always — read nothing more.
struct PushReads {
    /// Stored states by id (absent: new to the server).
    private(set) var stored: [String: RecordState]
    /// Owners of the replicas the pushed clocks name (see ``RecordStore/StoredRows/owners``).
    private(set) var owners: [String: Int64?]
    /// Scope facts of the customers the pushes name.
    var facts: ScopeFactsCache
    /// Records written since they were read: re-read before the next push looks at them.
    private var stale: Set<String> = []

    /// Reads everything `pushes` need, in three statements at most whatever their number (the
    /// stored rows with the pushed customers' territories and the owners of the replicas their
    /// clocks name; for customers named but not pushed, their territories; exits for customers
    /// that exist).
    init(_ pushes: [(prepared: RecordStore.PreparedPush, writer: RecordStore.Writer)], on connection: PostgresConnection) throws {
        var ids: [String] = []
        var seen: Set<String> = []
        for push in pushes {
            for state in push.prepared.customers + push.prepared.activities where seen.insert(state.id).inserted {
                ids.append(state.id)
            }
        }
        // The owners of every replica the pushed clocks name, read with the rows: a superset of
        // the replicas they advance beyond the stored clocks, the only ones decisions look up.
        var clockReplicas: Set<String> = []
        for push in pushes where push.writer.userID != nil {
            for state in push.prepared.customers + push.prepared.activities {
                for dot in state.clock.entries { clockReplicas.insert(dot.replica) }
            }
        }
        let rows = try RecordStore.lockRows(ids: ids, ownersOf: clockReplicas, on: connection)
        stored = rows.states
        owners = rows.owners
        // Scope facts matter only to restricted writers; one restricted scope makes the cache read.
        facts = ScopeFactsCache(scope: pushes.first { !$0.writer.scope.isUnrestricted }?.writer.scope ?? .unrestricted)
        var named: [String] = []
        for push in pushes where !push.writer.scope.isUnrestricted {
            named += push.prepared.customers.map(\.id)
            for state in push.prepared.activities {
                for source in [state, stored[state.id]] {
                    if let id = source?.displayedValue("customer_id") { named.append(id) }
                }
            }
        }
        try facts.prefetch(named, reading: rows, on: connection)
    }

    /// The records `prepared`'s decisions read: the ones it sends, and the customers its
    /// activities name, as sent and as stored (see ``SharedMerge``).
    func records(touchedBy prepared: RecordStore.PreparedPush) -> Set<String> {
        var records = Set(prepared.customers.map(\.id))
        for state in prepared.activities {
            records.insert(state.id)
            for source in [state, stored[state.id]] {
                if let customerID = source?.displayedValue("customer_id") { records.insert(RecordID.canonical(customerID) ?? customerID) }
            }
        }
        return records
    }

    /// Re-reads those of `ids` an earlier push of the transaction wrote.
    mutating func refresh(_ ids: [String], on connection: PostgresConnection) throws {
        let wanted = ids.filter { stale.contains($0) }
        guard !wanted.isEmpty else { return }
        let fresh = try RecordStore.lockStates(ids: wanted, on: connection)
        for id in wanted {
            stored[id] = fresh[id]
            stale.remove(id)
        }
    }

    /// Records that a push wrote the records `ids` and registered `replicas` to `userID`.
    mutating func wrote(_ ids: [String], registered replicas: [String], to userID: Int64?) {
        stale.formUnion(ids)
        facts.forget(ids)
        if let userID {
            for replica in replicas where owners[replica] == nil { owners[replica] = .some(userID) }
        }
    }
}
