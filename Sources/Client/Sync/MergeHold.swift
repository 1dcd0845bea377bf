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
/// So a pending merged tombstone is pushed only once no customer it may have been merged into
/// — any candidate of its pointer, not only the one displayed (merges made concurrently
/// elsewhere stand beside this laptop's), and their own survivors in turn — holds changes the
/// server has not taken: until then it is held back, stays pending, and the sync reports it as
/// waiting (``RecordRejection/Code/mergeWaiting``).
enum MergeHold {
    /// The first record it may have been merged into (directly or along merges of those) that
    /// holds changes the server has not taken, if `id` is a pending merged tombstone that must
    /// wait for it; `bytes` are `id`'s cached state (only a state that names the merge field is
    /// decoded).
    static func blocker(of id: String, bytes: [UInt8], in store: CacheStore) throws -> String? {
        guard MergeRedirect.mayName(RecordState.mergedIntoField, bytes), let state = try store.state(id), state.mergedInto != nil
        else { return nil }
        return try survivors(of: state, in: store).first { try store.isPending($0) }
    }

    /// The pending merged tombstones that wait for `survivor` (see ``blocker(of:bytes:in:)``),
    /// directly or through a chain of merges.
    static func dependents(of survivor: String, in store: CacheStore) throws -> [String] {
        var dependents: [String] = []
        for id in try store.pendingIDs() where id != survivor {
            guard let (kind, bytes) = try store.stateBytes(id), kind == .customer,
                MergeRedirect.mayName(RecordState.mergedIntoField, bytes), let state = try store.state(id), state.mergedInto != nil
            else { continue }
            if try survivors(of: state, in: store).contains(survivor) { dependents.append(id) }
        }
        return dependents
    }

    /// Every customer `tombstone` may have been merged into: each candidate of its pointer, and
    /// theirs in turn while they are merged tombstones themselves (breadth first, bounded).
    static func survivors(of tombstone: RecordState, in store: CacheStore) throws -> [String] {
        var found: [String] = []
        var queue = pointerCandidates(tombstone)
        while !queue.isEmpty, found.count < MergeRedirect.maximumHops {
            let next = queue.removeFirst()
            guard next != tombstone.id, !found.contains(next) else { continue }
            found.append(next)
            if let state = try store.state(next), state.mergedInto != nil { queue += pointerCandidates(state) }
        }
        return found
    }

    /// The survivors the pointer of a merged tombstone names, displayed or in conflict.
    static func pointerCandidates(_ state: RecordState) -> [String] {
        (state.register(RecordState.mergedIntoField)?.entries ?? []).compactMap { $0.value.flatMap(RecordID.canonical) }
    }
}
