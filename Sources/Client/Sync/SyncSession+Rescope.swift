import CXModel

/// What a page does to the scope: decided by ``SyncSession/trackScope(_:in:)``, written by
/// ``SyncSession/apply(_:to:)`` with the page.
struct ScopeStep {
    /// The scope to remember, when it changed.
    var newScope: SyncScope?
    /// A rescope starts with this page: the cursor is reset and the flag set.
    var startsRescope = false
    /// The rescope under way ends with this page: the flag is cleared.
    var finishesRescope = false
    /// Records re-sent after an epoch reset (queued for pushing).
    var resent: [String] = []
}

extension SyncSession {
    /// Forgets `id` unless it still holds changes the server has not taken: then it is kept
    /// and remembered in ``leftScope`` (dropped once acknowledged, else reported at the end).
    mutating func drop(_ id: String, kind: RecordKind, in page: inout PageChanges) throws {
        guard !page.dropped.contains(id) else { return }
        if try page.isPending(id) {
            leftScope[id] = kind
            return
        }
        let cached = try page.store.kind(of: id) != nil
        page.changes[id] = nil
        if cached {
            page.dropped.insert(id)
            page.drops.append((id, kind))
        }
    }

    /// Records the reply lists as `removed` left the user's territories: each is dropped, a
    /// customer with its activities (cached, or pulled in this very page).
    mutating func dropRemoved(_ removed: [String], in page: inout PageChanges) throws {
        for id in removed {
            page.delivered.remove(id)
            guard let kind = try page.changes[id]?.state.kind ?? page.store.kind(of: id) else { continue }
            try drop(id, kind: kind, in: &page)
            guard kind == .customer else { continue }
            // The cache's index files activities under their customer as written so far: one
            // this page moved to another customer (an arrival, a merge) stays.
            var activities = Set(try page.store.activityIDs(ofCustomer: id).filter { activityID in
                page.changes[activityID].map { $0.state.displayedValue("customer_id") == id } ?? true
            })
            for (activityID, change) in page.changes
            where change.state.kind == .activity && change.state.displayedValue("customer_id") == id {
                activities.insert(activityID)
            }
            for activityID in activities.sorted() {
                page.delivered.remove(activityID)
                try drop(activityID, kind: .activity, in: &page)
            }
        }
    }

    /// Rescope, epoch reset and the end of a rescope, for one page.
    ///
    /// * The reply's scope is remembered; a change (or an older cache's first scoped reply)
    ///   starts a rescope: pulling restarts from a null cursor.
    /// * A restored or failed-over server (`reset`: the cursor's epoch is gone) is answered like
    ///   a rescope, and every record holding this cache's own writes is re-sent, as the server
    ///   may have lost them (merging is idempotent: what it has changes nothing). Other users'
    ///   writes only their own laptops may re-send.
    /// * Once the last page of a rescope is in and every pending state went out, every cached
    ///   record the server did not deliver since the rescope started has left the scope.
    mutating func trackScope(_ reply: SyncReply, in page: inout PageChanges) throws -> ScopeStep {
        var step = ScopeStep()
        let store = page.store, engine = engine
        if let scope = reply.scope {
            report.scope = scope
            let stored = store.scope
            if stored != scope {
                step.newScope = scope
                if stored != nil {
                    step.startsRescope = true
                    report.scopeChanged = true
                } else if store.cursor != nil {
                    step.startsRescope = true
                }
            }
        }
        if reply.reset {
            report.recovered = true
            step.startsRescope = true
            for (id, _) in try store.records() {
                guard let state = try page.state(id),
                    state.clock.entries.contains(where: { engine.isOwn($0.replica, store) })
                else { continue }
                page.changes[id] = CacheStore.Change(state: state, pending: true)
                step.resent.append(id)
            }
        }
        if step.startsRescope {
            // This page was already selected by the new scope: what it delivered counts.
            rescope = page.delivered
            report.rescoped = true
            hasMore = true
        } else if var seen = rescope {
            seen.formUnion(page.delivered)
            rescope = seen
            if !hasMore, next >= queue.count {
                for (id, kind) in try store.records() where !seen.contains(id) && page.changes[id] == nil {
                    try drop(id, kind: kind, in: &page)
                }
                step.finishesRescope = true
            }
        }
        return step
    }
}
