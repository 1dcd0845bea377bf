import CXModel
import CXPostgres
import Hummingbird
import Prometheus
import Logging

/// `POST /v1/sync`: merge the pushed states within the user's scope, then answer the changes
/// in that scope after the cursor.
struct SyncController: Sendable {
    let store: RecordStore
    let limits: SyncRequest.Limits
    let maxBodyBytes: Int
    let metrics: ServerMetrics

    func register(on group: RouterGroup<CXRequestContext>) {
        group.post("sync", use: sync)
    }

    @Sendable func sync(_ request: Request, context: CXRequestContext) async throws -> Response {
        guard request.headers[.contentType].map({ $0.lowercased().hasPrefix("application/json") }) ?? true else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "send the sync request as application/json")
        }
        var request = request
        let body = try await request.collectBody(upTo: maxBodyBytes)
        let sync = try SyncRequest.parse(Array(buffer: body), limits: limits)
        guard let user = context.user else { throw APIError.unauthorized }
        metrics.recordsPushed.increment(by: Int64(sync.changes.count))

        let (scope, epoch) = try await store.pool.withConnection { connection in
            (try UserStore.scope(of: user, on: connection), try ServerEpoch.current(on: connection))
        }
        let writer = RecordStore.Writer(userID: user.id, userName: user.name, replicaID: sync.replicaID, scope: scope)
        var outcome = try await store.push(sync.changes, as: writer, claim: sync.claim, logger: context.logger)
        outcome.rejected.insert(contentsOf: sync.rejected, at: 0)  // refused while reading the request
        metrics.recordsWritten.increment(by: Int64(outcome.written))
        metrics.recordsRejected.increment(by: Int64(outcome.rejected.count))
        // A cursor from before a restore or a failover could skip changes: start over, and say so
        // (the client then re-sends what the restored database lacks).
        let reset = epoch.invalidates(sync.cursor)
        let page = try await store.pull(after: reset ? 0 : sync.cursor.sequence, limit: sync.limit, scope: scope)
        metrics.recordsPulled.increment(by: Int64(page.states.count))
        metrics.syncRequests.increment()
        context.logger.info(
            "sync",
            metadata: [
                "replica": "\(sync.replicaID)", "pushed": "\(sync.changes.count)", "written": "\(outcome.written)",
                "rejected": "\(outcome.rejected.count)", "pulled": "\(page.states.count)", "removed": "\(page.removed.count)",
                "has_more": "\(page.hasMore)", "reset": "\(reset)",
            ])

        let reply = SyncReply(
            changes: page.states.map { Array($0.utf8) }, cursor: SyncCursor.format(page.lastSequence, epoch: epoch.id),
            hasMore: page.hasMore, rejected: outcome.rejected, removed: page.removed,
            scope: SyncScope(user: user.name, role: user.role, territories: scope.sortedTerritories), reset: reset)
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: reply.jsonBytes())))
    }
}
