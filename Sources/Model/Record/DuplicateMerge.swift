/// The merge of one duplicate customer into another, as pure writes: what `cx merge` writes
/// on a laptop and what `cx.merge_customers` writes in SQL (the same rules, see
/// docs/sql-guide.md, "Merging duplicates").
///
/// - the survivor absorbs the duplicate's fields and tags (``RecordState/absorb(_:unseenBy:by:)``:
///   gaps filled, different values kept side by side as a conflict, tags united);
/// - every activity of the duplicate that is not deleted moves to the survivor (a write of
///   `customer_id`);
/// - the duplicate becomes a tombstone naming the survivor (``RecordState/markMerged(into:by:)``).
public struct DuplicateMerge: Sendable {
    /// Why a merge cannot be made.
    public struct Refusal: Error, Hashable, Sendable, CustomStringConvertible {
        /// What is wrong, for people.
        public let message: String
        public var description: String { message }
    }

    /// The survivor after the merge.
    public var kept: RecordState
    /// The duplicate's tombstone.
    public var dropped: RecordState
    /// The moved activities, with their new `customer_id`.
    public var moved: [RecordState]
    /// What the survivor took from the duplicate.
    public var absorption: RecordState.Absorption

    /// Plans the merge of `drop` into `keep`.
    ///
    /// - Parameters:
    ///   - keep: the survivor's current state.
    ///   - drop: the duplicate's current state.
    ///   - activities: the activities to consider (those whose displayed `customer_id` is
    ///     the duplicate and that are not deleted move; the others are ignored).
    ///   - author: the replica, user and time of every write.
    /// - Throws: ``Refusal`` when the two are the same record, not both customers, deleted, or
    ///   the duplicate was already merged.
    public init(keep: RecordState, drop: RecordState, activities: [RecordState], by author: Author) throws(Refusal) {
        guard keep.id != drop.id else {
            throw Refusal(message: "cannot merge customer \(keep.id) into itself; name two different customers")
        }
        for state in [keep, drop] where state.kind != .customer {
            throw Refusal(message: "\(state.id) is an activity; only customers are merged")
        }
        if let survivor = drop.mergedInto {
            throw Refusal(message: "customer \(drop.id) was already merged into \(survivor)")
        }
        if let survivor = keep.mergedInto {
            throw Refusal(message: "customer \(keep.id) was merged into \(survivor); keep that one instead")
        }
        for state in [keep, drop] where state.isDeleted {
            throw Refusal(message: "customer \(state.id) is deleted; restore it first (resolve deleted keep) or merge live customers")
        }
        // The replica's counters keep growing across the records written (see Author).
        var author = author
        func advance(_ state: RecordState) {
            author.counterFloor = Swift.max(author.counterFloor, state.clock[author.replica])
        }
        var kept = keep
        absorption = kept.absorb(drop, by: author)
        advance(kept)
        var dropped = drop
        dropped.markMerged(into: keep.id, by: author)
        advance(dropped)
        var moved: [RecordState] = []
        for activity in activities.sorted(by: { $0.id < $1.id })
        where activity.kind == .activity && !activity.isDeleted && activity.displayedValue("customer_id") == drop.id {
            var state = activity
            // A record id of a customer: always valid for customer_id.
            try! state.set("customer_id", to: keep.id, by: author)
            advance(state)
            moved.append(state)
        }
        self.kept = kept
        self.dropped = dropped
        self.moved = moved
    }
}
