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

        var w = JSONWriter(capacity: 64 + page.states.reduce(0) { $0 + $1.utf8.count + 1 })
        w.raw("{\"changes\":[")
        for (index, state) in page.states.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.rawJSON(state.utf8)
        }
        w.raw("],\"cursor\":")
        w.string(SyncCursor.format(page.lastSequence, epoch: epoch.id))
        w.raw(",\"has_more\":")
        w.bool(page.hasMore)
        if reset { w.raw(",\"reset\":true") }
        w.raw(",\"rejected\":[")
        for (index, rejection) in outcome.rejected.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            rejection.encode(into: &w)
        }
        w.raw("],\"removed\":[")
        for (index, id) in page.removed.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(id)
        }
        w.raw("],\"scope\":{\"user\":")
        w.string(user.name)
        w.raw(",\"role\":")
        w.string(user.role.rawValue)
        w.raw(",\"territories\":[")
        for (index, territory) in scope.sortedTerritories.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(territory)
        }
        w.raw("]}}")
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
    }
}
