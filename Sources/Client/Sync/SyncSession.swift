import CXModel

/// The state of one `cx sync` run and its steps, so that ``SyncEngine/run(client:)`` reads as
/// the protocol: ``readBatch()`` (push), ``send(_:with:)`` and ``outcome(of:)``, ``apply(_:to:)`` (the pulled
/// page, removals, rescope, epoch reset), ``continueAsNewIncarnation(after:discarding:)`` and
/// ``finish()``. Each step takes the cache's lock, does its work and releases it again, so the
/// lock is never held across a network round trip; the loaded cache is kept between steps and
/// only catches up with what other processes appended meanwhile (``CacheStore/resume()``), so a
/// push of many batches does not read its growing journal again for every batch.
///
/// The steps live in files by job: `SyncSession+Push.swift` (reading a batch, splitting after a
/// 413), `SyncSession+Apply.swift` (writing a page), `SyncSession+Rescope.swift` (scope changes,
/// the epoch reset, dropping what left the scope), `SyncSession+Incarnation.swift` (forks),
/// `SyncSession+Overlap.swift` (work done while the server works), `SyncSession+PushAhead.swift`
/// (a push sent while the one before is answered).
struct SyncSession {
    /// The engine's settings (cache, replica, batch and page sizes, progress).
    let engine: SyncEngine
    /// When the sync started (monotonic nanoseconds), for the report's duration.
    let started: UInt64
    /// What the sync did so far.
    var report = SyncReport()
    /// The cache, loaded once and suspended (unlocked) between steps.
    private let cache: CacheStore

    // MARK: Push state

    /// Pending ids in push order (customers, then activities); re-sent and re-based ids are appended.
    var queue: [String]
    /// The position in ``queue`` of the next id to read.
    var next = 0
    /// The most states the next request pushes (halved after a 413).
    var countLimit: Int
    /// The most bytes of states the next request pushes (halved after a 413).
    var byteLimit: Int
    /// Pending states checked for completeness ahead of their batch, while the server worked on
    /// the one before (``readAhead()``): the bytes checked (a state changed since is checked
    /// again) and what the state is.
    var vetted: [String: (bytes: [UInt8], record: WrittenRecord)] = [:]
    /// Records re-based after a `foreign_clock` refusal (once each per sync).
    var rebased: Set<String> = []
    /// A fold in the middle of this sync left its generation's book out (``foldIfLarge(_:)``).
    var leftBookOut = false
    /// Merged tombstones held back until the pending record they wait for (their survivor, or
    /// one further along their chain of merges) reaches the server (``MergeHold``).
    var heldMerges: [String: String] = [:]
    /// Ids pushed or pulled so far: the records ``MergeRedirect`` looks at when the sync ends.
    var touched: TouchedRecords
    /// The server listed ``SyncReply/Feature/omitEchoes`` in a reply of this sync (older
    /// servers refuse the request option).
    var serverOmitsEchoes = false
    /// The server listed ``SyncReply/Feature/compactStates`` in a reply of this sync: it reads
    /// compact states and sends them when asked. Until then states go in the expanded form,
    /// which every server reads.
    var serverReadsCompactStates = false
    /// The server listed ``SyncReply/Feature/pushAhead`` in a reply of this sync: a push may go
    /// out while the one before is unanswered (``pushAheadBatch()``).
    var serverPushesAhead = false
    /// The receipts of this sync's push-only requests, handed back with its pulls so its own
    /// writes do not come back (``EchoReceipt``); at most ``echoReceiptLimit``.
    var echoReceipts: [EchoReceipt] = []

    // MARK: Pull state

    /// Whether the server said more pages follow the last one applied.
    var hasMore = true
    /// Whether no request was sent yet since the sync (re)started: at least one goes out.
    var startingOver = true
    /// The next request pulls from the beginning (a rescope, interrupted or after a fork).
    var restart = false
    /// Whether pulled states are encoded for the journal as they are decoded (``EncodedPut``):
    /// when the sync started without a cursor — a first sync, where nearly every pulled record
    /// is new to the cache. Elsewhere most pulled states merge into cached ones, and encoding
    /// them ahead would be work thrown away.
    let encodesAhead: Bool

    // MARK: Scope state

    /// Ids the server delivered since the rescope under way (if any) started.
    var rescope: Set<String>?
    /// Records that left the scope but had unpushed changes when they would have been dropped.
    var leftScope: [String: RecordKind] = [:]
    /// How many times the server said another copy of this cache synced first.
    var forks = 0

    /// Starts a sync: reads the push queue and resumes a rescope an earlier sync left unfinished.
    init(engine: SyncEngine) throws {
        self.engine = engine
        started = POSIX.monotonicNanoseconds()
        countLimit = engine.batchSize
        byteLimit = engine.batchBytes
        touched = TouchedRecords(limit: engine.touchedLimit)
        let store = try CacheStore.open(directory: engine.cacheDirectory, exclusive: true)
        cache = store
        defer { store.suspend() }
        queue = try SyncEngine.pushOrder(store)
        encodesAhead = store.cursor == nil
        if store.isRescoping {
            rescope = []
            restart = true
            report.rescoped = true
        }
    }

    /// The cache, locked for writing and up to date; each step holds it only while it works
    /// and hands it back with ``CacheStore/suspend()``.
    func openCache() throws -> CacheStore {
        try cache.resume()
        return cache
    }

    /// Whether another request is due: the first one, pending states left to push, or pages
    /// left to pull.
    var wantsAnotherExchange: Bool {
        startingOver || next < queue.count || hasMore
    }

    /// How an exchange ended.
    enum Outcome {
        /// The server answered: apply the page (its states decoded in ``InFlight/decoded``).
        case reply(SyncReply)
        /// The request was too large; the batch was split (or its one state reported): go again.
        case retry
        /// Another copy of this cache synced first (the message says how): nothing is applied.
        case forked(String)
    }

    /// A request on its way to the server; its answer (a reply or the failure) arrives in
    /// ``answer`` while the sync does other work, and the reply's states are decoded in
    /// ``decoded`` as soon as it is in — so the request after it can go out first
    /// (``pullAhead(after:to:)``) and the server reads the next page meanwhile.
    struct InFlight: Sendable {
        let request: OutgoingBatch
        let answer: Task<Result<SyncReply, any Error>, Never>
        /// The reply with its states decoded (`nil` when the answer is a failure).
        let decoded: Task<DecodedReply?, Never>
    }

    /// A reply with the states it delivers decoded beside the sync's own work (`nil` where a
    /// state does not decode: ``apply(_:to:)`` decodes it again to report why), on two cores
    /// for a full page. When the page's records are likely new to the cache
    /// (``SyncSession/encodesAhead``), each state is also encoded for the journal there
    /// (``EncodedPut``): a state the cache does not hold is written exactly so.
    struct DecodedReply: Sendable {
        let reply: SyncReply
        let states: [RecordState?]
        /// Each decoded state encoded as a new, not pending record (empty unless encoded ahead).
        let encoded: [EncodedPut?]

        /// Decodes (and encodes ahead) outside the task pool (``OffPoolWork``), in two
        /// halves for a page of 128 states or more.
        static func decoding(_ reply: SyncReply, encodingAhead: Bool) async -> DecodedReply {
            let changes = reply.changes
            let decoded = await OffPoolWork.map(changes, workers: changes.count >= 128 ? 2 : 1) { raw in
                let state = try? RecordState(jsonBytes: raw, values: .stored)
                return (state, encodingAhead ? state.map { EncodedPut($0, pending: false) } : nil)
            }
            return DecodedReply(reply: reply, states: decoded.map(\.0), encoded: encodingAhead ? decoded.map(\.1) : [])
        }
    }

    /// How this sync sends a request: what every request of it shares, apart from the session,
    /// so that a request can also go out from a task of its own (``chain(after:with:)``).
    struct Sender: Sendable {
        let pageLimit: Int
        /// ``SyncSession/encodesAhead``.
        let encodesAhead: Bool

        /// Sends `request` without waiting for the answer (``outcome(of:)`` classifies it).
        func send(_ request: OutgoingBatch, with client: some SyncTransport) -> InFlight {
            let envelope = request.envelope(pageLimit: pageLimit)
            let answer = Task { () -> Result<SyncReply, any Error> in
                do { return .success(try await client.sync(envelope)) } catch { return .failure(error) }
            }
            let decoded = Task { () -> DecodedReply? in
                guard case .success(let reply) = await answer.value else { return nil }
                return await DecodedReply.decoding(reply, encodingAhead: encodesAhead)
            }
            return InFlight(request: request, answer: answer, decoded: decoded)
        }
    }

    var sender: Sender { Sender(pageLimit: engine.pageLimit, encodesAhead: encodesAhead) }

    /// Sends `request` without waiting for the answer (``outcome(of:)`` classifies it).
    func send(_ request: OutgoingBatch, with client: some SyncTransport) -> InFlight {
        sender.send(request, with: client)
    }

    /// Waits for the answer to `exchange` and classifies it. A 413 splits the batch (see
    /// ``splitAfterPayloadTooLarge(_:)``); `409 replica_forked` or a `dot_reused` refusal is a fork.
    mutating func outcome(of exchange: InFlight) async throws -> Outcome {
        let reply: SyncReply
        do {
            reply = try await exchange.answer.value.get()
        } catch let forked as ReplicaForked {
            return .forked(forked.message)
        } catch is PayloadTooLarge where !exchange.request.batch.isEmpty {
            splitAfterPayloadTooLarge(exchange.request)
            return .retry
        }
        CrashPoint.reach("sync-replied")
        if let dotReused = reply.rejected.first(where: { $0.code == .dotReused }) { return .forked(dotReused.message) }
        return .reply(reply)
    }

    /// Ends the sync: records kept for their pending changes that the server has since taken
    /// are dropped, the others reported as kept; the sync mark is written and the journal
    /// compacted if it grew large. The cache stays loaded for ``redirect(_:)``.
    mutating func finish() throws -> SyncReport {
        let store = try openCache()
        defer { store.suspend() }
        try reportHeldMerges(store)
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
        if leftBookOut { try store.writeBookIfMissing() }
        report.conflicts = try store.conflictedIDs().count
        report.durationMS = Int((POSIX.monotonicNanoseconds() - started) / 1_000_000)
        return report
    }

    /// Applies ``MergeRedirect`` to the records this sync touched — or, with `everything` (an
    /// earlier sync stopped before its redirects) or after too many to remember, to every cached
    /// customer that may be a merged duplicate — writing as this cache's incarnation, on the
    /// cache the sync loaded: it knows what the sync wrote (``WrittenRecord``) without reading
    /// it back.
    func redirect(everything: Bool) throws -> [SyncReport.Redirect] {
        if !everything, touched.ids?.isEmpty == true { return [] }
        let store = try openCache()
        defer { store.suspend() }
        guard let ids = everything ? nil : touched.ids else {
            return try redirect(store.customersThatMayBeMerged(), in: store)
        }
        return try redirect(ids, in: store)
    }

    private func redirect(_ ids: Set<String>, in store: CacheStore) throws -> [SyncReport.Redirect] {
        guard !ids.isEmpty else { return [] }
        let incarnation = try store.incarnation(base: engine.replicaID)
        let author = Author(replica: incarnation.id, user: engine.user, at: .now(), counterFloor: incarnation.counter)
        return try MergeRedirect.apply(touched: ids, store: store, author: author)
    }

    /// Releases the cache for good.
    func close() {
        cache.close()
    }
}
