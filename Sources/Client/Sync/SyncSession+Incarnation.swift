import CXModel

extension SyncSession {
    /// The server said another copy of this cache synced first (`409 replica_forked`, or a
    /// `dot_reused` refusal). Nothing of the reply is applied: the pulled states may carry the
    /// other copy's writes under the same replica id. The unconfirmed writes are re-issued under
    /// a new incarnation (``CacheStore/reincarnate(base:)``) and the sync starts over — from the
    /// beginning of the queue, and of the pull too if a rescope is under way. Gives up (exit 1)
    /// if that keeps happening in one sync.
    mutating func continueAsNewIncarnation(after message: String, discarding request: OutgoingBatch) throws {
        forks += 1
        forgetRefusals(of: [request])
        guard forks <= 3 else {
            throw CXError(.failure, "the server keeps refusing this cache's replica: \(message)",
                          hint: "Local changes are kept. Check that no other copy of this cx home syncs at the same time, then run `cx sync` again.")
        }
        do {
            let store = try openCache()
            defer { store.suspend() }
            let fresh = try store.reincarnate(base: engine.replicaID)
            report.reincarnated = fresh.id
            engine.progress?("this cx home was restored or copied: continuing as replica \(fresh.id); local changes are re-sent")
        }
        queue = try SyncEngine.pendingQueue(engine.cacheDirectory)
        next = 0
        heldMerges = [:]
        echoReceipts = []
        startingOver = true
        hasMore = true
        if rescope != nil {
            rescope = []
            restart = true
        }
    }
}
