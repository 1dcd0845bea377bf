import CXModel
import SystemPackage

extension CacheStore {
    /// The replica incarnation to write as, made and stored when needed: for a new cache, for a
    /// cache written before incarnations (it keeps writing as `base`, the id it always used),
    /// and for a cache that was copied or restored (its lock file is not the file the
    /// incarnation was made with), which continues as a new incarnation so it never mints a
    /// dot its other copy may mint too.
    ///
    /// A copy also re-issues its unconfirmed writes (see ``reincarnate(base:)``): the cache it
    /// was copied from may itself have been restored and have re-used dots the server holds for
    /// other writes, which that cache learns from the server but a copy made before its next
    /// sync would otherwise push on as its own history (a tag removal under a re-used dot then
    /// erased the server's write of that dot).
    /// - Parameter base: the installation's replica id from `cx init`.
    public func incarnation(base: String) throws -> ReplicaIncarnation {
        guard isExclusive else {
            throw CXError(.failure, "internal error: the replica incarnation needs the cache opened for writing")
        }
        let fileID = try lockFileID()
        if let current = replica, current.fileID == fileID { return current }
        if let copied = replica {
            return try continueAfter(copied, base: base, fileID: fileID)
        }
        let fresh: ReplicaIncarnation
        if holdsEarlierWrites {
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
        try continueAfter(try incarnation(base: base), base: base, fileID: try lockFileID())
    }

    /// A new incarnation that re-issues `old`'s writes above its last confirmed counter in every
    /// pending record (values kept, fresh dots; the record's clock claims no more of `old` than
    /// was confirmed), stored in one journal batch.
    private func continueAfter(_ old: ReplicaIncarnation, base: String, fileID: UInt64) throws -> ReplicaIncarnation {
        var fresh = ReplicaIncarnation(id: ReplicaIncarnation.newID(base: base), fileID: fileID)
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
        confirmed.proposedCounter = nil
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
