import CXModel

/// Exists for `cx-bench push-path`: ``SyncRequest`` and ``RecordStore/PreparedPush`` are
/// internal, so this is the package-visible door to the CPU work a push does before it reaches
/// PostgreSQL.
package enum PushPathBenchmarking {
    /// Reads `body` as a `POST /v1/sync` request, then prepares its states as a grouped push
    /// does (joined, checked, new records' rows and audit rows encoded for `COPY`), as user 1,
    /// `rep`, with the request's replica id. Returns how many records it prepared.
    package static func prepare(_ body: [UInt8]) throws -> Int {
        let request = try SyncRequest.parse(body, limits: SyncRequest.Limits())
        let writer = RecordStore.Writer(userID: 1, userName: "rep", replicaID: request.replicaID, scope: .unrestricted)
        let prepared = RecordStore.PreparedPush(request.changes, encodingInsertsBy: writer)
        return prepared.encodedInserts.count
    }
}
