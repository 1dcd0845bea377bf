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
    /// The most states one snapshot page asks for (``pullSnapshot(client:)``): the server's
    /// most. A first sync of the sample book (628,587 records) in pages of 1,000 made 580
    /// requests, past the server's default rate limit (a burst of 120, then 20 a second), and
    /// waited for it two thirds of its time.
    public var snapshotPageLimit = 5000
    /// The most touched records a sync remembers for its redirects (``TouchedRecords``).
    var touchedLimit = TouchedRecords.defaultLimit
    /// The journal size past which a sync folds it before going on, while the snapshot is
    /// under eight times as large (``SyncSession/midSyncThreshold(_:)``): four times the
    /// compaction threshold, 32 MB unless `CX_COMPACTION_THRESHOLD` says otherwise.
    var foldFloor = CacheStore.compactionThreshold * 4
    /// Whether a cache that holds no record is filled from the server's snapshot
    /// (``pullSnapshot(client:)``); `cx sync` turns it off with `CX_SNAPSHOT_PULL=0`, which
    /// benchmarks and tests set to compare it with the regular first sync.
    public var pullsSnapshot = true
    public var progress: (@Sendable (String) -> Void)?
    /// The user name shown on writes the sync makes itself (redirects after a merge).
    public var user: String?

    public init(cacheDirectory: String, replicaID: String) {
        self.cacheDirectory = cacheDirectory
        self.replicaID = replicaID
    }

    /// Runs the sync to its end (see the type's documentation) and reports what it did.
    ///
    /// The loop reads as the steps of a ``SyncSession``: read a batch to push, exchange it for
    /// a page, apply the page (acks, pulled states, removals, rescope, epoch reset) as one journal
    /// batch; a 413 retries with a smaller batch, a forked replica continues as a new incarnation
    /// and starts over; at the end, records kept for their changes are settled. While the
    /// server works, the next batch is checked ahead and, once nothing is left to push, the next
    /// page is requested before this one is applied (`SyncSession+Overlap.swift`).
    public func run(client: some SyncTransport) async throws -> SyncReport {
        let snapshot = try await pullSnapshot(client: client)
        var report = try await runRound(client: client)
        if let snapshot { report = snapshot.followed(by: report) }
        // Writes moved to the survivor of a merge go out in the same sync; each round only
        // redirects what the one before touched, so this ends (bounded all the same).
        var rounds = 1
        while !report.redirected.isEmpty && rounds < Self.maximumRounds {
            let before = report.redirected.count
            report = report.followed(by: try await runRound(client: client))
            rounds += 1
            if report.redirected.count == before { break }
        }
        return report
    }

    /// The file a sync leaves in the cache directory from its first applied page until its
    /// redirects are committed (see ``runRound(client:)``).
    static let redirectDueFile = "redirect-due"

    /// The most rounds one sync runs (a round after the first sends writes redirected to the
    /// survivor of a merge, see ``MergeRedirect``).
    static let maximumRounds = 3

    /// One round: push and pull until done, then redirect the records of merged duplicates that
    /// the round touched.
    private func runRound(client: some SyncTransport) async throws -> SyncReport {
        var session = try SyncSession(engine: self)
        // A sync that stopped between applying a page and redirecting what it touched (killed,
        // or the server gone mid-way) left the marker: the records it touched are unknown now,
        // so this round looks at every merged customer of the cache.
        let redirectMarker = cacheDirectory + "/" + Self.redirectDueFile
        let redirectsEverything = POSIX.exists(redirectMarker)
        var markerWritten = redirectsEverything
        // A pull request sent before the page before it was applied, and the one chained after
        // it, sent once its reply is in (SyncSession+Overlap.swift).
        var ahead: SyncSession.InFlight?
        var chained: Task<SyncSession.InFlight?, Never>?
        // Pushes sent while the request before them is answered (SyncSession+PushAhead.swift),
        // in the order they went out.
        var pushesAhead: [SyncSession.InFlight] = []
        while session.wantsAnotherExchange || !pushesAhead.isEmpty {
            let exchange: SyncSession.InFlight
            if !pushesAhead.isEmpty {
                exchange = pushesAhead.removeFirst()
            } else if let sent = try await session.stillWanted(ahead.take(), chained: &chained) {
                exchange = sent
            } else {
                exchange = session.send(try session.readBatch(), with: client)
                // While the server works: check the next batch's states.
                try session.readAhead()
            }
            // One push goes ahead while this request is answered.
            if pushesAhead.isEmpty, chained == nil, let batch = try session.pushAheadBatch() {
                pushesAhead.append(session.send(batch, with: client))
                try session.readAhead()
            }
            let request = exchange.request
            switch try await session.outcome(of: exchange) {
            case .retry:
                await session.drop(pushesAhead)
                pushesAhead = []
                continue
            case .forked(let message):
                await session.drop(pushesAhead)
                pushesAhead = []
                try session.continueAsNewIncarnation(after: message, discarding: request)
            case .reply(let reply):
                if !markerWritten {
                    try POSIX.createEmptyFile(redirectMarker)
                    markerWritten = true
                }
                // The next push goes ahead before this answer is applied: two stay with the server.
                if pushesAhead.count < 2, chained == nil, let batch = try session.pushAheadBatch() {
                    pushesAhead.append(session.send(batch, with: client))
                }
                if request.pushOnly {
                    try session.applyPushOnly(reply, to: request)
                } else {
                    // While this page is applied, the server reads the next: the request chained
                    // after this one went out when this reply came in, or it goes now — unless a
                    // push is ahead, whose receipt the next pull must carry.
                    if let sent = await chained.take()?.value {
                        ahead = sent
                    } else if pushesAhead.isEmpty {
                        ahead = session.pullAhead(after: reply, to: request).map { session.send($0, with: client) }
                    }
                    chained = ahead.flatMap { session.chain(after: $0, with: client) }
                    // Decoded (on other threads) since the reply came in.
                    guard let decoded = await exchange.decoded.value else {
                        throw CXError(.failure, "internal error: a sync reply arrived without its decoded states")
                    }
                    try session.apply(decoded, to: request)
                }
                CrashPoint.reach("sync-page-applied")
                try session.releaseHeldMerges()
                // While the pushes ahead are with the server: check the batch after them.
                if !pushesAhead.isEmpty { try session.readAhead() }
                if !request.batch.isEmpty || !reply.changes.isEmpty {
                    progress?("synced: \(session.report.pushed) pushed, \(session.report.pulled) pulled so far")
                }
            }
            // The exchange holds the last references to its page (the reply, the decoded states
            // and their encodings): they are freed on another thread, not on the sync's own.
            OffPoolWork.release(consume exchange)
        }
        var report = try session.finish()
        defer { session.close() }
        report.redirected = try session.redirect(everything: redirectsEverything)
        if markerWritten { POSIX.removeFile(redirectMarker) }
        if !report.redirected.isEmpty {
            let store = try CacheStore.open(directory: cacheDirectory, exclusive: true)
            defer { store.close() }
            report.conflicts = try store.conflictedIDs().count
        }
        return report
    }

    /// Whether `replica` is one of this cache's own: the installation id (caches from before
    /// incarnations) and every incarnation made from it.
    func isOwn(_ replica: String, _ store: CacheStore) -> Bool {
        replica == replicaID || replica.hasPrefix(replicaID + ".") || replica == store.replica?.id
    }

    /// The incarnation a request goes out as, with the next token it proposes.
    struct Proposal {
        /// The incarnation, its proposal stored before the request goes out.
        var incarnation: ReplicaIncarnation
        /// The highest counter the request may carry (the counter when the proposal was made).
        var confirmsUpTo: UInt64
        /// Whether the request must push nothing: it settles an earlier proposal whose reply
        /// never came, and writes were made since.
        var settlesOnly: Bool
    }

    /// The incarnation to send as, with a proposed next token stored before the request goes
    /// out (an earlier proposal whose reply never arrived is reused: the server may have
    /// admitted that request, and then lets in only its retry).
    ///
    /// A reused proposal is the one key a restored or copied cache shares with this one: the
    /// server admits whichever copy presents it as the retry. So no request under a proposal
    /// carries a write made after the proposal — those two copies need not share (seed
    /// 1800010: a restored copy's new write under a dot the other copy had pushed under the
    /// same proposal was taken as already seen, and dropped). When writes were made since,
    /// the old proposal is first settled by a request that pushes nothing, and they go under
    /// the next one, which the other copy cannot present.
    static func proposingIncarnation(_ store: CacheStore, base: String) throws -> Proposal {
        var incarnation = try store.incarnation(base: base)
        if incarnation.proposedToken == nil {
            incarnation.proposedToken = ReplicaIncarnation.newToken()
            incarnation.proposedCounter = incarnation.counter
            try store.commit([], replica: incarnation)
            return Proposal(incarnation: incarnation, confirmsUpTo: incarnation.counter, settlesOnly: false)
        }
        // A proposal stored by an older cx does not say what its request carried: settle it,
        // confirming no more than was confirmed before.
        let limit = incarnation.proposedCounter ?? incarnation.syncedCounter
        return Proposal(incarnation: incarnation, confirmsUpTo: limit, settlesOnly: incarnation.counter > limit)
    }

    /// Pending ids in push order, read from the cache.
    static func pendingQueue(_ directory: String) throws -> [String] {
        let store = try CacheStore.open(directory: directory, exclusive: true)
        defer { store.close() }
        return try pushOrder(store)
    }

    /// The refusal the server would answer for `state` if it is incomplete or breaks the rules
    /// of credit notes (`nil` when it is neither).
    static func incompleteRefusal(_ state: RecordState) -> RecordRejection? {
        do throws(RecordValidationError) {
            try state.validateRequiredFields()
        } catch {
            return RecordRejection(
                id: state.id, code: .incompleteRecord, message: "record \(state.id) is incomplete: \(error.description); not pushed")
        }
        do throws(RecordValidationError) {
            try state.validateCreditNote()
            return nil
        } catch {
            return RecordRejection(
                id: state.id, code: .invalidRecord, message: "record \(state.id) is invalid: \(error.description); not pushed")
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
}
