import CXModel
import CXPostgres
import Hummingbird
import Prometheus
import Logging

/// `POST /v1/sync`: merge the pushed states within the user's scope, then answer the changes
/// in that scope after the cursor.
struct SyncController: Sendable {
    let store: RecordStore
    /// Group commit for pushes; `nil` commits each push in a transaction of its own.
    let pushes: PushCoalescer?
    /// The token checks the sync route's authentication serves from memory: a check read again
    /// here (access changed) replaces the cached one, and a token refused here leaves it.
    let authentications: AuthenticationCache?
    let limits: SyncRequest.Limits
    let maxBodyBytes: Int
    let metrics: ServerMetrics

    func register(on group: RouterGroup<CXRequestContext>) {
        group.post("sync", use: sync)
    }

    /// Handles one sync and logs its outcome in one line, success or not: request id, user,
    /// replica, `status` and `duration_ms`, plus the counts on success (`--log-format json`
    /// turns it into one JSON object per sync).
    @Sendable func sync(_ request: Request, context: CXRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        var replica: String?
        do {
            let (response, counts) = try await handle(request, context: context, replica: &replica)
            var metadata = counts
            metadata["status"] = .stringConvertible(Int(response.status.code))
            metadata["duration_ms"] = .stringConvertible(Self.milliseconds(since: started))
            context.logger.info("sync", metadata: metadata)
            return response
        } catch {
            let answer = JSONErrorMiddleware<CXRequestContext>.apiError(for: error, logger: context.logger)
            var metadata: Logger.Metadata = [
                "status": .stringConvertible(Int(answer.status.code)), "error": "\(answer.code)",
                "duration_ms": .stringConvertible(Self.milliseconds(since: started)),
            ]
            if let replica { metadata["replica"] = "\(replica)" }
            context.logger.log(level: answer.status.code >= 500 ? .warning : .info, "sync failed", metadata: metadata)
            throw answer
        }
    }

    /// Milliseconds since `start`, to 0.1 ms.
    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return (milliseconds * 10).rounded() / 10
    }

    private func handle(
        _ request: Request, context: CXRequestContext, replica: inout String?
    ) async throws -> (Response, Logger.Metadata) {
        guard request.headers[.contentType].map({ $0.lowercased().hasPrefix("application/json") }) ?? true else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "send the sync request as application/json")
        }
        var request = request
        let body = try await request.collectBody(upTo: maxBodyBytes)
        let sync = try SyncRequest.parse(Array(buffer: body), limits: limits)
        replica = "\(sync.replicaID)"
        guard let authenticated = context.user else { throw APIError.unauthorized }
        metrics.recordsPushed.increment(by: Int64(sync.changes.count))

        var writer = RecordStore.Writer(userID: authenticated.id, userName: authenticated.name, replicaID: sync.replicaID, scope: authenticated.scope)
        writer.authentication = context.authentication
        let (pushed, epoch, reread) = sync.changes.isEmpty
            ? try await admit(sync, as: writer, logger: context.logger)
            : try await push(sync, as: writer, logger: context.logger)
        var outcome = pushed
        // The user as their token's check was read again in this request, if their access changed.
        if let reread { authentications?.remember(reread, tokenHash: reread.token.hash) }
        let user = reread?.user ?? authenticated
        let scope = user.scope
        outcome.rejected.insert(contentsOf: sync.rejected, at: 0)  // refused while reading the request
        metrics.recordsWritten.increment(by: Int64(outcome.written))
        metrics.recordsRejected.increment(by: Int64(outcome.rejected.count))
        if sync.pushOnly {
            // The numbers the push gave what it left as sent, read back after its commit: a row
            // still numbered so has not changed since.
            var sequences: [Int64] = []
            if let echoes = outcome.echoes { sequences = try await store.sequences(of: echoes) }
            let receipt = sequences.isEmpty ? nil : EchoSequences(numbers: sequences, epoch: epoch.id).receipt
            return (pushOnlyReply(sync, outcome: outcome, receipt: receipt, user: user), counts(sync, outcome, page: nil, reset: false))
        }
        if sync.isSnapshot {
            // Echoes are never left out of a snapshot: its pages are in id order, not the push's.
            return try await snapshotReply(sync, outcome: outcome, epoch: epoch, user: user)
        }
        // A cursor from before a restore or a failover could skip changes: start over, and say so
        // (the client then re-sends what the restored database lacks).
        let reset = epoch.invalidates(sync.cursor)
        // Echoes are left out only when asked, and never from a page that starts over: this
        // push's own, and those of the client's push-only requests (receipts of this epoch).
        let omits = sync.omitsEchoes && !reset
        let receipts = omits ? sync.echoReceipts.filter { $0.epoch == epoch.id } : []
        let page = try await store.pull(
            after: reset ? 0 : sync.cursor.sequence, limit: sync.limit, scope: scope, omitting: omits ? outcome.echoes : nil, receipts: receipts)
        metrics.recordsPulled.increment(by: Int64(page.states.count))
        metrics.syncRequests.increment()

        let reply = SyncReply(
            changes: sync.wantsCompactStates ? page.states.map { Array($0.utf8) } : page.states.map { RecordState.expandedJSON(Array($0.utf8)) },
            cursor: SyncCursor.format(page.lastSequence, epoch: epoch.id),
            hasMore: page.hasMore, rejected: outcome.rejected,
            removed: page.removed + outcome.outOfScope.filter { !page.removed.contains($0) },
            scope: SyncScope(user: user.name, role: user.role, territories: scope.sortedTerritories), reset: reset,
            features: Self.features)
        return (Self.response(reply), counts(sync, outcome, page: page, reset: reset))
    }

    /// A request that writes nothing: the epoch its cursor is checked against and the access
    /// version, read in one statement before anything else; the writer's token check confirmed
    /// at that version; then its replica admitted (when it carries sync tokens). Returns the
    /// check when it was read again.
    private func admit(
        _ sync: SyncRequest, as writer: RecordStore.Writer, logger: Logger
    ) async throws -> (RecordStore.PushOutcome, ServerEpoch, reread: Authentication?) {
        let (epoch, accessVersion) = try await store.pool.withConnection { try ServerEpoch.currentWithAccessVersion(on: $0) }
        var admitted = writer
        var reread: Authentication?
        if let authentication = writer.authentication, authentication.accessVersion != accessVersion {
            admitted = try await confirming(authentication) {
                try await store.pool.withConnection { try writer.confirmed(atVersion: accessVersion, on: $0) }
            }
            reread = admitted.authentication
        }
        return (try await store.push([], as: admitted, claim: sync.claim, logger: logger), epoch, reread)
    }

    /// A request with changes: merged in a group commit (or a transaction of its own), which
    /// confirms the writer's token check and reads the epoch under the sequence lock before it
    /// writes. Returns the check when it was read again.
    private func push(
        _ sync: SyncRequest, as writer: RecordStore.Writer, logger: Logger
    ) async throws -> (RecordStore.PushOutcome, ServerEpoch, reread: Authentication?) {
        let outcome = try await confirming(writer.authentication) {
            if let pushes {
                try await pushes.push(sync.changes, as: writer, claim: sync.claim, logger: logger)
            } else {
                try await store.push(sync.changes, as: writer, claim: sync.claim, logger: logger)
            }
        }
        if let epoch = outcome.epoch { return (outcome, epoch, outcome.authentication) }
        return (outcome, try await store.pool.withConnection { try ServerEpoch.current(on: $0) }, outcome.authentication)
    }

    /// Runs `step`, which confirms the request's token check (`authentication`); if the token
    /// no longer authenticates, its cached check goes too.
    private func confirming<T>(_ authentication: Authentication?, _ step: () async throws -> T) async throws -> T {
        do {
            return try await step()
        } catch let error as APIError where error.status == .unauthorized {
            if let authentication { authentications?.forget(tokenHash: authentication.token.hash) }
            throw error
        }
    }

    /// The options this server understands (``SyncReply/features``).
    static let features: [SyncReply.Feature] = [.omitEchoes, .compactStates, .pushAhead, .snapshot]

    /// The reply to a snapshot request (docs/sync-protocol.md §2a): the next page of the
    /// scope in id order. A snapshot cursor of another epoch (the database was restored or
    /// failed over since the snapshot began) begins the snapshot again, with `reset`.
    private func snapshotReply(
        _ sync: SyncRequest, outcome: RecordStore.PushOutcome, epoch: ServerEpoch, user: AuthenticatedUser
    ) async throws -> (Response, Logger.Metadata) {
        var position = sync.snapshotPosition
        let reset = position.map { $0.epoch != epoch.id || $0.through > epoch.lastSequence } ?? false
        if reset { position = nil }
        let page = try await store.snapshot(from: position, epoch: epoch.id, limit: sync.limit, scope: user.scope)
        metrics.recordsPulled.increment(by: Int64(page.states.count))
        metrics.syncRequests.increment()
        let reply = SyncReply(
            changes: sync.wantsCompactStates ? page.states.map { Array($0.utf8) } : page.states.map { RecordState.expandedJSON(Array($0.utf8)) },
            cursor: page.next.map(SnapshotCursor.format) ?? SyncCursor.format(page.through, epoch: epoch.id),
            hasMore: true, rejected: outcome.rejected, removed: outcome.outOfScope,
            scope: SyncScope(user: user.name, role: user.role, territories: user.scope.sortedTerritories), reset: reset,
            features: Self.features, snapshot: page.next != nil)
        var counts = counts(sync, outcome, page: nil, reset: reset)
        counts["pulled"] = .stringConvertible(page.states.count)
        counts["snapshot"] = .stringConvertible(true)
        return (Self.response(reply), counts)
    }

    /// The reply to a push-only request: no page (no cursor: the client keeps its own), the
    /// records the push refused or that left the writer's scope, and the receipt of what it
    /// left exactly as sent. The cursor's epoch is not checked: the client's next pull does that.
    private func pushOnlyReply(
        _ sync: SyncRequest, outcome: RecordStore.PushOutcome, receipt: EchoReceipt?, user: AuthenticatedUser
    ) -> Response {
        metrics.syncRequests.increment()
        let reply = SyncReply(
            changes: [], cursor: nil, hasMore: true, rejected: outcome.rejected, removed: outcome.outOfScope,
            scope: SyncScope(user: user.name, role: user.role, territories: user.scope.sortedTerritories),
            features: Self.features,
            echoReceipt: receipt)
        return Self.response(reply)
    }

    /// The one-line log's counts of a sync that succeeded.
    private func counts(_ sync: SyncRequest, _ outcome: RecordStore.PushOutcome, page: RecordStore.Page?, reset: Bool) -> Logger.Metadata {
        [
            "replica": "\(sync.replicaID)", "pushed": .stringConvertible(sync.changes.count), "written": .stringConvertible(outcome.written),
            "rejected": .stringConvertible(outcome.rejected.count), "pulled": .stringConvertible(page?.states.count ?? 0),
            "removed": .stringConvertible(page?.removed.count ?? outcome.outOfScope.count), "echoes_omitted": .stringConvertible(page?.echoes ?? 0),
            "has_more": .stringConvertible(page?.hasMore ?? true), "reset": .stringConvertible(reset), "push_only": .stringConvertible(sync.pushOnly),
        ]
    }

    private static func response(_ reply: SyncReply) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: reply.jsonBytes())))
    }
}
