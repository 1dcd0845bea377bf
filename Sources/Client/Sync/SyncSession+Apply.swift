import CXModel

/// What one reply changes in the cache, gathered by the steps of ``SyncSession/apply(_:to:)``
/// and written as one journal batch.
struct PageChanges {
    /// The cache, open for writing while the page is applied.
    let store: CacheStore
    /// Pushed ids whose pending state the server acknowledged and that are still exactly the
    /// state pushed (an edit made meanwhile stays pending).
    var acks: [String] = []
    var acked: Set<String> = []
    /// Ids this page delivered (in the user's scope).
    var delivered: Set<String> = []
    /// States to write: merged pulls and records re-sent after an epoch reset.
    var changes: [String: CacheStore.Change] = [:]
    /// Records to forget, in order, and their ids.
    var drops: [(id: String, kind: RecordKind)] = []
    var dropped: Set<String> = []

    /// The state of `id` after this page so far.
    func state(_ id: String) throws -> RecordState? {
        try changes[id]?.state ?? store.state(id)
    }

    /// Whether `id` still holds changes the server has not taken, after this page.
    func isPending(_ id: String) throws -> Bool {
        if let change = changes[id] { return change.pending }
        return try store.isPending(id) && !acked.contains(id)
    }
}

extension SyncSession {
    /// Applies a reply: acknowledgements, the pulled page, removals, the scope and its
    /// rescope, an epoch reset, and drops of records kept earlier, with the new cursor and the
    /// confirmed incarnation, as one journal batch; then re-bases records refused for a foreign
    /// clock and compacts if the journal grew large relative to the snapshot.
    mutating func apply(_ decoded: DecodedReply, to request: OutgoingBatch) throws {
        let reply = decoded.reply
        hasMore = reply.hasMore
        report.rejected += reply.rejected
        serverOmitsEchoes = reply.features.contains(.omitEchoes)
        serverReadsCompactStates = reply.features.contains(.compactStates)
        serverPushesAhead = reply.features.contains(.pushAhead)
        // Every page is complete up to its cursor; the last one (nothing more waiting) has passed
        // every write the receipts name, and a restart or a reset pulls everything anyway.
        if !reply.hasMore || reply.reset || request.restarting { echoReceipts = [] }
        let store = try openCache()
        defer { store.suspend() }
        var page = PageChanges(store: store)
        try acknowledge(request, refused: Set(reply.rejected.map(\.id)), in: &page)
        try mergePulled(decoded, into: &page)
        touched.formUnion(request.batch.map(\.id))
        touched.formUnion(page.delivered)
        // Back in scope (or never out of it): no longer a candidate for dropping at the end.
        for id in page.delivered { leftScope[id] = nil }
        try dropRemoved(reply.removed, in: &page)
        let scopeStep = try trackScope(reply, in: &page)

        try dropAcknowledgedLeavers(in: &page)

        report.pulled += page.changes.count
        report.removed += page.drops.count
        try store.commit(
            Array(page.changes.values), acks: page.acks, drops: page.drops, cursor: reply.cursor ?? request.cursor,
            resetsCursor: scopeStep.startsRescope, scope: scopeStep.newScope,
            rescoping: scopeStep.startsRescope ? true : scopeStep.finishesRescope ? false : nil,
            replica: Self.confirmedIncarnation(store, sent: request.sent, upTo: request.confirmsUpTo))
        if scopeStep.finishesRescope { rescope = nil }
        let unqueued = scopeStep.resent.filter { !queue[next...].contains($0) }
        queue += unqueued
        try rebaseForeignClocks(reply.rejected, store: store)
        try foldIfLarge(store)
    }

    /// Records that left the scope earlier in this sync, kept for their pending changes, go in
    /// the batch of the reply that acknowledged them: a sync interrupted before its end must not
    /// strand them (the server will not report them removed again).
    mutating func dropAcknowledgedLeavers(in page: inout PageChanges) throws {
        for (id, kind) in leftScope.sorted(by: { $0.key < $1.key }) where page.acked.contains(id) {
            leftScope[id] = nil
            try drop(id, kind: kind, in: &page)
        }
    }

    /// Acknowledges the pushed states the server did not refuse (each counts as pushed); only
    /// those still exactly as pushed lose their pending mark.
    mutating func acknowledge(_ request: OutgoingBatch, refused: Set<String>, in page: inout PageChanges) throws {
        for item in request.batch where !refused.contains(item.id) {
            report.pushed += 1
            if let (_, current) = try page.store.stateBytes(item.id), current == item.bytes {
                page.acks.append(item.id)
                if let known = request.known[item.id] { page.store.remember(known, for: item.id) }
            }
        }
        page.acked = Set(page.acks)
    }

    /// Merges every pulled state into what the cache holds. An unreadable state is reported
    /// and skipped (its id still counts as delivered); a state whose kind differs from the
    /// cached record is refused; a pending record stays pending unless this reply acked it.
    private mutating func mergePulled(_ decoded: DecodedReply, into page: inout PageChanges) throws {
        for (index, (raw, readState)) in zip(decoded.reply.changes, decoded.states).enumerated() {
            // Decoded already unless it failed: decoding it again says why.
            guard let state = readState else {
                if let failure = SyncEngine.decodingFailure(raw) { report.skipped.append(failure) }
                if let id = SyncEngine.recordID(in: raw) { page.delivered.insert(id) }
                continue
            }
            page.delivered.insert(state.id)
            let current = try page.state(state.id)
            if let current, !current.isSameRecord(as: state) {
                report.skipped.append("record \(state.id) changed kind on the server; kept the local one")
                continue
            }
            let merged = current?.merging(state) ?? state
            if merged == current { continue }
            let pending = try page.store.isPending(state.id) && !page.acked.contains(state.id)
            // A record new to the cache is written as pulled: encoded already, if ahead.
            if current == nil, index < decoded.encoded.count, let encoded = decoded.encoded[index], encoded.pending == pending {
                page.changes[state.id] = CacheStore.Change(encoded)
            } else {
                page.changes[state.id] = CacheStore.Change(state: merged, pending: pending)
            }
        }
    }

    /// The incarnation to store with the page: the server admitted the request, so the token
    /// it proposed is now the incarnation's (unless the incarnation changed meanwhile).
    static func confirmedIncarnation(_ store: CacheStore, sent: ReplicaIncarnation, upTo counter: UInt64) -> ReplicaIncarnation? {
        guard let current = store.replica, current.id == sent.id, let proposal = sent.proposedToken,
            current.proposedToken == proposal
        else { return nil }
        return CacheStore.confirmed(current, proposal: proposal, counter: counter)
    }

    /// A state refused for claiming other users' writes the server lacks keeps this cache's
    /// own writes and re-bases the rest on what the server holds, and is sent again (once per
    /// record per sync).
    mutating func rebaseForeignClocks(_ rejections: [RecordRejection], store: CacheStore) throws {
        let engine = engine
        for rejection in rejections where rejection.code == .foreignClock {
            guard let limit = rejection.storedClock, rebased.insert(rejection.id).inserted,
                let state = try store.state(rejection.id)
            else { continue }
            let cut = state.rebased(knowingOfOthersAtMost: limit, own: { engine.isOwn($0, store) })
            guard cut != state else { continue }
            try store.commit([CacheStore.Change(state: cut, pending: true)])
            report.rejected.removeAll { $0.id == rejection.id && $0.code == .foreignClock }
            if !queue[next...].contains(rejection.id) { queue.append(rejection.id) }
        }
    }

    /// During a large first sync, fold the journal at 32 MB, or at an eighth of the snapshot
    /// once that is larger: the journal is held in memory (with what the store keeps per record
    /// in it), so its bound is what a sync's memory grows with — an initial sync of 578,587
    /// records peaked at 335–369 MB folding at half the snapshot, 227–240 MB at 32 MB, 255–294
    /// MB at 48 MB (docs/benchmarks.md); a bound that grows with the snapshot keeps the total
    /// compaction work linear in the book's size.
    func midSyncThreshold(_ store: CacheStore) throws -> Int {
        Swift.max(engine.foldFloor, try store.snapshotSize() / 8)
    }

    /// Folds the journal when it passed ``midSyncThreshold(_:)``, leaving out the generation's
    /// `book.bin`: another fold or the sync's end follows, and ``finish()`` writes the book of
    /// the generation the sync ends on. A book built at every fold cost a first sync of the
    /// sample book a sixth of its time, and it was built while the journal was still held, on
    /// top of the sync's peak memory.
    mutating func foldIfLarge(_ store: CacheStore) throws {
        guard try store.journalSize > midSyncThreshold(store) else { return }
        try store.compact(writingBook: false)
        leftBookOut = true
    }
}
