import CXModel
import SystemPackage

extension CacheStore {
    /// The replica incarnation to write as, made and stored when needed: for a new cache, for a
    /// cache written before incarnations (it keeps writing as `base`, the id it always used),
    /// and for a cache that was copied or restored (its lock file is not the file the
    /// incarnation was made with), which continues as a new incarnation so it never mints a
    /// dot its other copy may mint too.
    /// - Parameter base: the installation's replica id from `cx init`.
    public func incarnation(base: String) throws -> ReplicaIncarnation {
        guard isExclusive else {
            throw CXError(.failure, "internal error: the replica incarnation needs the cache opened for writing")
        }
        let fileID = try lockFileID()
        if let current = replica, current.fileID == fileID { return current }
        let fresh: ReplicaIncarnation
        if replica == nil, holdsEarlierWrites {
            fresh = ReplicaIncarnation(id: base, fileID: fileID)
        } else {
            fresh = ReplicaIncarnation(id: ReplicaIncarnation.newID(base: base), fileID: fileID)
        }
        try commit([], replica: fresh)
        return fresh
    }

    /// Continues as a new incarnation after the server said this one was forked: every pending
    /// record's writes above the last confirmed counter are re-issued under the new id (values
    /// kept, fresh dots), in one journal batch. Returns the new incarnation.
    @discardableResult
    public func reincarnate(base: String) throws -> ReplicaIncarnation {
        let old = try incarnation(base: base)
        var fresh = ReplicaIncarnation(id: ReplicaIncarnation.newID(base: base), fileID: try lockFileID())
        var changes: [Change] = []
        for id in try pendingIDs() {
            guard let state = try state(id) else { continue }
            let (reminted, last) = state.reminting(old.id, above: old.syncedCounter, as: fresh.id, after: fresh.counter)
            fresh.counter = Swift.max(fresh.counter, last)
            if reminted != state { changes.append(Change(state: reminted, pending: true)) }
        }
        try commit(changes, replica: fresh)
        return fresh
    }

    /// Records the server's answer to a request that carried `proposal`: the token is now the
    /// incarnation's, and every write up to `counter` (the counter when the request was built)
    /// is confirmed shared history. Written with the reply's page by the caller.
    static func confirmed(_ incarnation: ReplicaIncarnation, proposal: String, counter: UInt64) -> ReplicaIncarnation {
        var confirmed = incarnation
        confirmed.token = proposal
        confirmed.proposedToken = nil
        confirmed.syncedCounter = Swift.max(confirmed.syncedCounter, Swift.min(counter, confirmed.counter))
        return confirmed
    }

    /// Whether this cache holds anything written before incarnations existed (a journal, a
    /// snapshot or a cursor): such writes carry the installation's replica id.
    private var holdsEarlierWrites: Bool {
        meta.generation > 0 || journal.validLength > 0 || cursor != nil
    }

    /// The inode of `cache/lock`: a copy or a restore makes a new file, a rename keeps it.
    private func lockFileID() throws -> UInt64 {
        let path = directory + "/lock"
        do {
            return UInt64(try FilePath(path).stat().inode.rawValue)
        } catch {
            throw IOError(path: path, operation: "stat", error: error)
        }
    }
}
