import CXModel

/// One sync exchange: an envelope out (``SyncEnvelope``), a reply back (``SyncClient`` over
/// HTTP; fakes in tests).
public protocol SyncTransport: Sendable {
    func sync(_ envelope: [UInt8]) async throws -> SyncReply
}

/// The reply to one sync exchange (the contract type ``SyncReply`` of CXModel).
public typealias SyncResponse = SyncReply

extension SyncClient: SyncTransport {}

/// Runs a sync: pushes pending states in batches (customers before activities, so an
/// activity's customer reaches the server first), pulls pages until `has_more` is false, and
/// merges every pulled state into the cache.
///
/// The cache lock is held only between network round trips, so other `cx` commands can run
/// during a long sync. Each reply is applied as one journal batch together with its cursor, so
/// an interrupted sync resumes from the last applied page; a pending record is acknowledged
/// only if it is still exactly the state that was pushed (an edit made meanwhile stays pending).
///
/// **Scope.** The server only sends what the user may see. Records listed in a reply's
/// `removed` (they left the user's territories) are dropped with their activities, in the
/// reply's batch. When the reply's scope differs from the one the cache stored (or an older
/// cache with a cursor meets its first scoped reply), a *rescope* starts: the flag is stored,
/// pulling restarts from a null cursor, and once the last page is in and every pending state
/// pushed, every cached record the server did not deliver is dropped. An interrupted rescope
/// restarts from the beginning on the next sync. Records with unpushed changes are never
/// dropped: they are kept and reported (``SyncReport/kept``).
///
/// **Replica incarnations.** Every request carries the incarnation's sync token and proposes
/// the next one (stored before sending, reused if the reply is lost). When the server answers
/// that another copy of this cache synced first (`409 replica_forked`, or a `dot_reused`
/// rejection), the page is discarded, the cache continues as a new incarnation with its
/// unconfirmed writes re-issued (``CacheStore/reincarnate(base:)``), and the sync starts over.
public struct SyncEngine {
    public var cacheDirectory: String
    /// The installation's replica id (from `cx init`); writes carry the cache's incarnation id.
    public var replicaID: String
    public var batchSize = 1000
    /// The most bytes of record states one request pushes (one state is always sent, however
    /// large). Well below the server's default body limit (32 MiB, `--max-body-bytes`); a 413
    /// from a stricter server halves the batch and retries.
    public var batchBytes = 4 << 20
    public var pageLimit = 1000
    public var progress: (@Sendable (String) -> Void)?

    public init(cacheDirectory: String, replicaID: String) {
        self.cacheDirectory = cacheDirectory
        self.replicaID = replicaID
    }

    public func run(client: some SyncTransport) async throws -> SyncReport {
        let started = POSIX.monotonicNanoseconds()
        var report = SyncReport()
        var queue: [String]
        /// Ids the server delivered since the rescope under way (if any) started.
        var rescope: Set<String>?
        /// The next request pulls from the beginning (an interrupted rescope restarts).
        var restart = false
        do {
            let store = try CacheStore.open(directory: cacheDirectory, exclusive: true)
            defer { store.close() }
            queue = try Self.pushOrder(store)
            if store.isRescoping {
                rescope = []
                restart = true
                report.rescoped = true
            }
        }
        /// Records that left the scope but had unpushed changes when they would have been dropped.
        var leftScope: [String: RecordKind] = [:]
        var next = 0
        var countLimit = batchSize
        var byteLimit = batchBytes
        var hasMore = true
        var first = true
        var forks = 0
        /// Records re-based after a `foreign_clock` refusal (once each per sync).
        var rebased: Set<String> = []
        while first || next < queue.count || hasMore {
            first = false
            // 1. Read the next batch of pending states and the cursor: at most `countLimit`
            // states and `byteLimit` bytes (but always one state, however large).
            var batch: [(id: String, bytes: [UInt8])] = []
            var batchBytes = 0
            let batchStart = next
            let refusalsBefore = report.rejected.count
            let restarting = restart
            let cursor: String?
            let sent: ReplicaIncarnation
            do {
                let store = try CacheStore.open(directory: cacheDirectory, exclusive: true)
                defer { store.close() }
                sent = try Self.proposingIncarnation(store, base: replicaID)
                while next < queue.count, batch.count < countLimit {
                    let id = queue[next]
                    guard try store.isPending(id), let (_, bytes) = try store.stateBytes(id) else {
                        next += 1
                        continue
                    }
                    // The server refuses a whole request holding an incomplete state (422): such
                    // a state (written by an older cx) stays pending and is reported, not pushed.
                    if let state = try store.state(id), let refusal = Self.incompleteRefusal(state) {
                        next += 1
                        report.rejected.append(refusal)
                        continue
                    }
                    if !batch.isEmpty, batchBytes + bytes.count + 1 > byteLimit { break }
                    next += 1
                    batch.append((id, bytes))
                    batchBytes += bytes.count + 1
                }
                cursor = restart ? nil : store.cursor
                restart = false
            }
            // 2. Exchange. A 413 (the batch exceeds the server's body limit) halves the batch and
            // retries; a single state the server cannot take is reported and skipped, so every
            // other record still gets through. A forked replica continues as a new incarnation.
            let envelope = SyncEnvelope(
                replicaID: sent.id, syncToken: sent.token, nextSyncToken: sent.proposedToken, cursor: cursor,
                changes: batch.map(\.bytes), limit: pageLimit
            ).jsonBytes()
            var forkedBy: String?
            let response: SyncReply
            do {
                response = try await client.sync(envelope)
                CrashPoint.reach("sync-replied")
                forkedBy = response.rejected.first(where: { $0.code == .dotReused })?.message
            } catch let forked as ReplicaForked {
                forkedBy = forked.message
                response = SyncReply(changes: [], cursor: nil, hasMore: true)
            } catch is PayloadTooLarge where !batch.isEmpty {
                restart = restarting
                if batch.count > 1 {
                    // Read again from the same place: what this read reported is reported again.
                    report.rejected.removeSubrange(refusalsBefore...)
                    next = batchStart
                    countLimit = Swift.max(1, batch.count / 2)
                    byteLimit = Swift.max(1, batchBytes / 2)
                } else {
                    report.rejected.append(PayloadTooLarge.rejection(id: batch[0].id, bytes: batchBytes - 1))
                }
                continue
            }
            if let forkedBy {
                // Nothing of this reply is applied: the pulled states may carry the other copy's
                // writes under the same replica id. Re-issue, then start over.
                forks += 1
                report.rejected.removeSubrange(refusalsBefore...)
                try continueAsNewIncarnation(after: forkedBy, forks: forks, report: &report)
                queue = try Self.pendingQueue(cacheDirectory)
                next = 0
                first = true
                hasMore = true
                if rescope != nil {
                    rescope = []
                    restart = true
                }
                continue
            }
            hasMore = response.hasMore
            // 3. Apply acks, the pulled page, removals and scope marks, with the new cursor, as one batch.
            let rejected = Set(response.rejected.map(\.id))
            report.rejected += response.rejected
            do {
                let store = try CacheStore.open(directory: cacheDirectory, exclusive: true)
                defer { store.close() }
                var acks: [String] = []
                for item in batch where !rejected.contains(item.id) {
                    report.pushed += 1
                    if let (_, current) = try store.stateBytes(item.id), current == item.bytes {
                        acks.append(item.id)
                    }
                }
                let acked = Set(acks)
                var delivered: Set<String> = []
                var changes: [String: CacheStore.Change] = [:]
                for raw in response.changes {
                    let pulled: RecordState
                    do {
                        pulled = try RecordState(jsonBytes: raw, values: .stored)
                    } catch {
                        if let id = Self.recordID(in: raw) { delivered.insert(id) }
                        report.skipped.append(error.description)
                        continue
                    }
                    delivered.insert(pulled.id)
                    let current = try changes[pulled.id]?.state ?? store.state(pulled.id)
                    if let current, !current.isSameRecord(as: pulled) {
                        report.skipped.append("record \(pulled.id) changed kind on the server; kept the local one")
                        continue
                    }
                    let merged = current?.merging(pulled) ?? pulled
                    if merged == current { continue }
                    let pending = try store.isPending(pulled.id) && !acked.contains(pulled.id)
                    changes[pulled.id] = CacheStore.Change(state: merged, pending: pending)
                }

                // Back in scope (or never out of it): no longer a candidate for dropping at the end.
                for id in delivered { leftScope[id] = nil }

                // Whether `id` still holds changes the server has not taken, after this reply.
                func isPending(_ id: String) throws -> Bool {
                    if let change = changes[id] { return change.pending }
                    return try store.isPending(id) && !acked.contains(id)
                }
                var drops: [(id: String, kind: RecordKind)] = []
                var dropped: Set<String> = []
                // Forgets `id` unless it is pending; `false` when the cache did not have it.
                func drop(_ id: String, kind: RecordKind) throws {
                    guard !dropped.contains(id) else { return }
                    if try isPending(id) {
                        leftScope[id] = kind
                        return
                    }
                    let cached = try store.kind(of: id) != nil
                    changes[id] = nil
                    if cached {
                        dropped.insert(id)
                        drops.append((id, kind))
                    }
                }

                // Records that left the scope, and a customer's activities with it.
                for id in response.removed {
                    delivered.remove(id)
                    guard let kind = try changes[id]?.state.kind ?? store.kind(of: id) else { continue }
                    try drop(id, kind: kind)
                    guard kind == .customer else { continue }
                    var activities = Set(try store.activityIDs(ofCustomer: id))
                    for (activityID, change) in changes
                    where change.state.kind == .activity && change.state.displayedValue("customer_id") == id {
                        activities.insert(activityID)
                    }
                    for activityID in activities.sorted() {
                        delivered.remove(activityID)
                        try drop(activityID, kind: .activity)
                    }
                }

                // The scope: remember it; a change (or an older cache's first scoped reply) starts a rescope.
                var newScope: SyncScope?
                var startsRescope = false
                if let scope = response.scope {
                    report.scope = scope
                    let stored = store.scope
                    if stored != scope {
                        newScope = scope
                        if stored != nil {
                            startsRescope = true
                            report.scopeChanged = true
                        } else if store.cursor != nil {
                            startsRescope = true
                        }
                    }
                }
                // A restored or failed-over server (the cursor's epoch is gone): pull everything
                // again, as a rescope does, and re-send every record holding this cache's own
                // writes, which the server may have lost (merging is idempotent: what it has
                // changes nothing). Other users' writes only their own laptops may re-send.
                var resent: [String] = []
                if response.reset {
                    report.recovered = true
                    startsRescope = true
                    for (id, _) in try store.records() {
                        guard let state = try changes[id]?.state ?? store.state(id),
                            state.clock.entries.contains(where: { isOwn($0.replica, store) })
                        else { continue }
                        changes[id] = CacheStore.Change(state: state, pending: true)
                        resent.append(id)
                    }
                }
                var finishesRescope = false
                if startsRescope {
                    // This page was already selected by the new scope: what it delivered counts.
                    rescope = delivered
                    report.rescoped = true
                    hasMore = true
                } else if var seen = rescope {
                    seen.formUnion(delivered)
                    rescope = seen
                    // The last page is in and every pending state went out: what was not delivered left.
                    if !hasMore, next >= queue.count {
                        for (id, kind) in try store.records() where !seen.contains(id) && changes[id] == nil {
                            try drop(id, kind: kind)
                        }
                        finishesRescope = true
                    }
                }

                // Records that left the scope earlier in this sync, kept for their pending changes,
                // go in the batch of the reply that acknowledged them: a sync interrupted before
                // its end must not strand them (the server will not report them removed again).
                for (id, kind) in leftScope.sorted(by: { $0.key < $1.key }) where acked.contains(id) {
                    leftScope[id] = nil
                    try drop(id, kind: kind)
                }

                report.pulled += changes.count
                report.removed += drops.count
                // The server admitted the request: its proposed token is now the incarnation's.
                var confirmed: ReplicaIncarnation?
                if let current = store.replica, current.id == sent.id, let proposal = sent.proposedToken,
                    current.proposedToken == proposal
                {
                    confirmed = CacheStore.confirmed(current, proposal: proposal, counter: sent.counter)
                }
                try store.commit(
                    Array(changes.values), acks: acks, drops: drops, cursor: response.cursor ?? cursor,
                    resetsCursor: startsRescope, scope: newScope,
                    rescoping: startsRescope ? true : finishesRescope ? false : nil, replica: confirmed)
                if finishesRescope { rescope = nil }
                queue += resent.filter { !queue[next...].contains($0) }
                // A state refused for claiming other users' writes the server lacks keeps this
                // cache's own writes and re-bases the rest on what the server holds; sent again.
                for rejection in response.rejected where rejection.code == .foreignClock {
                    guard let limit = rejection.storedClock, rebased.insert(rejection.id).inserted,
                        let state = try store.state(rejection.id)
                    else { continue }
                    let cut = state.rebased(knowingOfOthersAtMost: limit, own: { isOwn($0, store) })
                    guard cut != state else { continue }
                    try store.commit([CacheStore.Change(state: cut, pending: true)])
                    report.rejected.removeAll { $0.id == rejection.id && $0.code == .foreignClock }
                    if !queue[next...].contains(rejection.id) { queue.append(rejection.id) }
                }
                if try store.journalSize > midSyncThreshold(store) { try store.compact() }
            }
            CrashPoint.reach("sync-page-applied")
            if batch.count > 0 || !response.changes.isEmpty {
                progress?("synced: \(report.pushed) pushed, \(report.pulled) pulled so far")
            }
        }
        let store = try CacheStore.open(directory: cacheDirectory, exclusive: true)
        defer { store.close() }
        // Records kept for their pending changes: those the server has since taken go now.
        let refusals = Dictionary(report.rejected.map { ($0.id, $0.message) }, uniquingKeysWith: { _, last in last })
        var drops: [(id: String, kind: RecordKind)] = []
        for (id, kind) in leftScope.sorted(by: { $0.key < $1.key }) where try store.kind(of: id) != nil {
            if try store.isPending(id) {
                let reason = refusals[id].map { "left your territories but has changes the server refused: \($0)" }
                    ?? "left your territories but has local changes not yet synced"
                report.kept.append(.init(id: id, reason: reason))
            } else {
                drops.append((id, kind))
            }
        }
        report.removed += drops.count
        try store.commit([], drops: drops, synced: .now())
        try store.compactIfNeeded()
        report.conflicts = try store.conflictedIDs().count
        report.durationMS = Int((POSIX.monotonicNanoseconds() - started) / 1_000_000)
        return report
    }

    /// Whether `replica` is one of this cache's own: the installation id (caches from before
    /// incarnations) and every incarnation made from it.
    private func isOwn(_ replica: String, _ store: CacheStore) -> Bool {
        replica == replicaID || replica.hasPrefix(replicaID + ".") || replica == store.replica?.id
    }

    /// The incarnation to send as, with a proposed next token stored before the request goes
    /// out (an earlier proposal whose reply never arrived is reused).
    static func proposingIncarnation(_ store: CacheStore, base: String) throws -> ReplicaIncarnation {
        var incarnation = try store.incarnation(base: base)
        if incarnation.proposedToken == nil {
            incarnation.proposedToken = ReplicaIncarnation.newToken()
            try store.commit([], replica: incarnation)
        }
        return store.replica ?? incarnation
    }

    /// Re-issues the unconfirmed writes under a new incarnation after the server said another
    /// copy of this cache synced first; gives up (exit 1) if that keeps happening in one sync.
    private func continueAsNewIncarnation(after message: String, forks: Int, report: inout SyncReport) throws {
        guard forks <= 3 else {
            throw CXError(.failure, "the server keeps refusing this cache's replica: \(message)",
                          hint: "Local changes are kept. Check that no other copy of this cx home syncs at the same time, then run `cx sync` again.")
        }
        let store = try CacheStore.open(directory: cacheDirectory, exclusive: true)
        defer { store.close() }
        let fresh = try store.reincarnate(base: replicaID)
        report.reincarnated = fresh.id
        progress?("this cx home was restored or copied: continuing as replica \(fresh.id); local changes are re-sent")
    }

    /// Pending ids in push order, read from the cache.
    static func pendingQueue(_ directory: String) throws -> [String] {
        let store = try CacheStore.open(directory: directory, exclusive: true)
        defer { store.close() }
        return try pushOrder(store)
    }

    /// The refusal the server would answer for `state` if it is incomplete (`nil` when complete).
    static func incompleteRefusal(_ state: RecordState) -> RecordRejection? {
        do throws(ValidationError) {
            try state.validateComplete()
            return nil
        } catch {
            return RecordRejection(
                id: state.id, code: .incompleteRecord, message: "record \(state.id) is incomplete: \(error.description); not pushed")
        }
    }

    /// Pending ids in push order: customers, then activities (each sorted).
    static func pushOrder(_ store: CacheStore) throws -> [String] {
        var customers: [String] = [], activities: [String] = []
        for id in try store.pendingIDs() {
            if try store.kind(of: id) == .activity { activities.append(id) } else { customers.append(id) }
        }
        return customers + activities
    }

    /// The top-level `"id"` of a state that could not be decoded, if it has one.
    static func recordID(in raw: [UInt8]) -> String? {
        var id: String?
        try? JSONScanner.scan(raw) { scanner throws(JSONScanner.Failure) in
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                if key == "id", id == nil { id = try scanner.string() } else { try scanner.skipValue() }
            }
        }
        return id
    }

    /// During a large first sync, fold the journal only when it is large relative to the
    /// snapshot, so total compaction work stays linear.
    private func midSyncThreshold(_ store: CacheStore) throws -> Int {
        let snapshot = try (store.customers?.stateFile?.size() ?? 0) + (store.activities?.stateFile?.size() ?? 0)
        return Swift.max(CacheStore.defaultCompactionThreshold * 4, snapshot / 2)
    }
}
