import CXModel

extension SyncSession {
    /// Once the queue is pushed, queues again every held merged tombstone whose chain of merges
    /// no longer holds a pending record (its survivor was acknowledged meanwhile), so it goes
    /// out in this sync; the others stay held.
    mutating func releaseHeldMerges() throws {
        guard next >= queue.count, !heldMerges.isEmpty else { return }
        let store = try openCache()
        defer { store.suspend() }
        for id in heldMerges.keys.sorted() {
            guard try store.isPending(id), let (_, bytes) = try store.stateBytes(id) else {
                heldMerges[id] = nil
                continue
            }
            if let survivor = try MergeHold.blocker(of: id, bytes: bytes, in: store) {
                heldMerges[id] = survivor
            } else {
                heldMerges[id] = nil
                queue.append(id)
            }
        }
    }

    /// Reports the merged tombstones still held at the end of the sync: they stay pending, and
    /// the report says which record they wait for and why it did not reach the server.
    mutating func reportHeldMerges(_ store: CacheStore) throws {
        for (id, survivor) in heldMerges.sorted(by: { $0.key < $1.key }) where try store.isPending(id) {
            let why = report.rejected.last { $0.id == survivor }.map { " (refused: \($0.message))" } ?? ""
            report.rejected.append(
                RecordRejection(
                    id: id, code: .mergeWaiting,
                    message: "its merge into \(Describe.short(survivor)) waits until \(Describe.short(survivor)) reaches the server\(why); it stays pending"))
        }
        heldMerges = [:]
    }
}
