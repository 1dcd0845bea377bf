import CXModel

/// Keeps the two halves of a merge in order on their way to the server.
///
/// A merge made on this laptop (`cx merge`, or a sync moving late edits of a duplicate to its
/// survivor, ``MergeRedirect``) writes two records: the **survivor**, which takes the
/// duplicate's values, and the duplicate's **tombstone**, which points at the survivor. The
/// server decides every record on its own: it may accept the tombstone and refuse the survivor
/// (someone moved the survivor out of the rep's territories meanwhile; it never reached the
/// server). Then the duplicate's values would stand only on a deleted record, seen by no one.
///
/// So a pending merged tombstone is pushed only once nothing along its chain of merges (its
/// survivor, the survivor's survivor…) holds changes the server has not taken: until then it
/// is held back, stays pending, and the sync reports it as waiting (``RecordRejection/Code/mergeWaiting``).
enum MergeHold {
    /// The first record along the chain of merges from `id` that holds changes the server has
    /// not taken, if `id` is a pending merged tombstone that must wait for it; `bytes` are
    /// `id`'s cached state (only a state that names the merge field is decoded).
    static func blocker(of id: String, bytes: [UInt8], in store: CacheStore) throws -> String? {
        guard MergeRedirect.mayName(RecordState.mergedIntoField, bytes), let state = try store.state(id),
            var target = state.mergedInto
        else { return nil }
        for _ in 0..<MergeRedirect.maximumHops where target != id {
            if try store.isPending(target) { return target }
            guard let next = try store.state(target)?.mergedInto else { return nil }
            target = next
        }
        return nil
    }

    /// The pending merged tombstones that wait for `survivor` (see ``blocker(of:bytes:in:)``),
    /// directly or through a chain of merges.
    static func dependents(of survivor: String, in store: CacheStore) throws -> [String] {
        var dependents: [String] = []
        for id in try store.pendingIDs() where id != survivor {
            guard let (kind, bytes) = try store.stateBytes(id), kind == .customer,
                MergeRedirect.mayName(RecordState.mergedIntoField, bytes), var target = try store.state(id)?.mergedInto
            else { continue }
            for _ in 0..<MergeRedirect.maximumHops where target != id {
                if target == survivor {
                    dependents.append(id)
                    break
                }
                guard let next = try store.state(target)?.mergedInto else { break }
                target = next
            }
        }
        return dependents
    }
}
