import CXModel

/// Moves writes made to a merged duplicate onto its survivor, after a sync brought the news of
/// the merge (``DuplicateMerge``: the duplicate's tombstone holds `extra.merged_into`).
///
/// A laptop that edited the duplicate offline pushes those edits; merged with the tombstone on
/// the server they come back as edits the merge had not seen (a delete/edit conflict). Here:
/// - the survivor absorbs exactly those edits (``RecordState/absorb(_:unseenBy:by:)``): a value
///   it lacks fills a gap, a different one stands beside its own as a conflict — never chosen
///   silently; the duplicate is then deleted again, under a clock that covers them;
/// - an activity of the duplicate (added offline, or moved to it) is moved to the survivor.
///
/// Only records this sync touched (pushed or pulled) are looked at, and only survivors in the
/// cache (in the user's territories) receive anything: otherwise the duplicate keeps its
/// delete/edit conflict, visible and resolvable, and the activity its customer. A delete
/// conflict with a restore (someone chose to keep the duplicate) is left to people.
enum MergeRedirect {
    /// How many merges are followed from a duplicate to its final survivor.
    static let maximumHops = 16

    /// Applies the redirects for the `touched` records and returns what moved; the writes are
    /// committed as pending (the caller pushes them).
    static func apply(touched: Set<String>, store: CacheStore, author base: Author) throws -> [SyncReport.Redirect] {
        var author = base
        var redirects: [SyncReport.Redirect] = []
        var changes: [String: RecordState] = [:]
        func current(_ id: String) throws -> RecordState? { try changes[id] ?? store.state(id) }
        func write(_ state: RecordState) {
            changes[state.id] = state
            author.counterFloor = Swift.max(author.counterFloor, state.clock[author.replica])
        }
        /// The live survivor at the end of the chain of merges from `id`, if cached.
        func survivor(of id: String) throws -> RecordState? {
            var next = id
            for _ in 0..<maximumHops {
                guard let state = try current(next) else { return nil }
                guard let target = state.mergedInto else { return state.isDeleted ? nil : state }
                next = target
            }
            return nil
        }

        /// Whether `id` may be a merged duplicate: known for a record this sync wrote
        /// (``WrittenRecord``); else only a state whose bytes name the merge field (or hold an
        /// escape, which could spell it otherwise) is decoded to find out. A first sync touches
        /// every record; decoding each again here cost a sixth of it.
        var mayBeMergedMemo: [String: Bool] = [:]
        func mayBeMerged(_ id: String) throws -> Bool {
            if changes[id] != nil { return true }
            if let written = store.writtenRecords[id] { return written.namesSurvivor }
            if let known = mayBeMergedMemo[id] { return known }
            let answer = try store.stateBytes(id).map { Self.mayName(RecordState.mergedIntoField, $0.bytes) } ?? false
            mayBeMergedMemo[id] = answer
            return answer
        }

        /// Merges that crossed (A into B on one laptop, B into A on another; or a longer
        /// cycle) left no live customer along the chain: every replica that sees the cycle
        /// elects the same survivor, its smallest id, restores it and gives it what it has not
        /// seen of the others. Their tombstones then lead to it like any chain of merges.
        func breakCycle(from id: String) throws {
            var path: [String] = []
            var next = id
            for _ in 0..<maximumHops {
                if let start = path.firstIndex(of: next) {
                    let cycle = path[start...]
                    guard let elected = cycle.min(), var survivor = try current(elected), survivor.mergedInto != nil else { return }
                    survivor.restore(by: author)
                    try survivor.set(RecordState.mergedIntoField, to: nil, by: author)
                    let seen = survivor.clock
                    for member in cycle.sorted() where member != elected {
                        guard let other = try current(member) else { continue }
                        let absorbed = survivor.absorb(other, unseenBy: seen, by: author)
                        redirects.append(
                            .init(id: member, kind: .customer, to: elected, fields: absorbed.filled + absorbed.conflicted,
                                  conflicts: absorbed.conflicted, tags: absorbed.tags, crossed: true))
                    }
                    write(survivor)
                    return
                }
                path.append(next)
                guard let state = try current(next), let target = state.mergedInto else { return }
                next = target
            }
        }

        var activities: Set<String> = []
        for id in touched.sorted() where try mayBeMerged(id) {
            guard let state = try current(id), state.mergedInto != nil else { continue }
            try breakCycle(from: id)
        }
        for id in touched.sorted() {
            guard let kind = try store.writtenRecords[id]?.kind ?? store.kind(of: id) else { continue }
            if kind == .activity {
                activities.insert(id)
                continue
            }
            guard try mayBeMerged(id), let state = try current(id) else { continue }
            switch state.kind {
            case .activity:
                activities.insert(id)
            case .customer:
                guard let target = state.mergedInto else { continue }
                try activities.formUnion(store.activityIDs(ofCustomer: id))
                guard state.deletionState == .conflicted, state.deletion.allSatisfy(\.value.deleted),
                    let seen = state.tombstoneSeen, var kept = try survivor(of: target)
                else { continue }
                let absorbed = kept.absorb(state, unseenBy: seen, by: author)
                if !absorbed.isEmpty { write(kept) }
                var dropped = state
                dropped.delete(by: author)
                write(dropped)
                redirects.append(
                    .init(id: id, kind: .customer, to: kept.id, fields: absorbed.filled + absorbed.conflicted,
                          conflicts: absorbed.conflicted, tags: absorbed.tags))
            }
        }
        for id in activities.sorted() {
            // An activity this sync wrote names its customer: unless that one may be merged,
            // there is nothing to move and no need to decode the activity.
            if let written = store.writtenRecords[id], written.kind == .activity {
                guard let customerID = written.customerID, try mayBeMerged(customerID) else { continue }
            }
            guard var state = try current(id), state.kind == .activity, !state.isDeleted,
                let customerID = state.displayedValue("customer_id"), try mayBeMerged(customerID), let customer = try current(customerID),
                customer.mergedInto != nil, let kept = try survivor(of: customerID)
            else { continue }
            try state.set("customer_id", to: kept.id, by: author)
            write(state)
            redirects.append(.init(id: id, kind: .activity, to: kept.id, fields: ["customer_id"], conflicts: [], tags: []))
        }
        if !changes.isEmpty {
            try store.commit(changes.keys.sorted().map { CacheStore.Change(state: changes[$0]!, pending: true) })
        }
        return redirects
    }

    /// Whether the JSON `bytes` may hold the key `name`: they contain it, or a backslash (an
    /// escape could spell it with other bytes).
    static func mayName(_ name: String, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { mayName(name, $0) }
    }

    static func mayName(_ name: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if bytes.contains(UInt8(ascii: "\\")) { return true }
        let needle = Array(name.utf8)
        guard bytes.count >= needle.count, let first = needle.first else { return false }
        var i = 0
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == first, bytes[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
