extension RecordState {
    /// The free-form field that a merged duplicate's tombstone holds: the id of the customer it
    /// was merged into.
    ///
    /// An `extra.` field rather than a new fixed field because clients that predate merges
    /// read every fixed field through the schema and refuse unknown ones; an `extra.` field
    /// reaches them as one more free-form field.
    public static let mergedIntoField = "extra.merged_into"

    /// The survivor this customer was merged into: set when the record is a merged duplicate's
    /// tombstone (deleted, or deleted with edits made concurrently elsewhere) carrying
    /// ``mergedIntoField``. `nil` for live records.
    public var mergedInto: String? {
        guard kind == .customer, deletionState != .live, let value = displayedValue(Self.mergedIntoField) else { return nil }
        return RecordID.canonical(value)
    }

    /// What ``absorb(_:unseenBy:by:)`` wrote.
    public struct Absorption: Hashable, Sendable {
        /// Fields that were empty here and took the other record's value.
        public var filled: [String] = []
        /// Fields where the other record's values now stand as concurrent candidates beside
        /// this record's (each a conflict to resolve, unless the values were equal).
        public var conflicted: [String] = []
        /// Tags added from the other record.
        public var tags: [String] = []

        /// Whether nothing was written.
        public var isEmpty: Bool { filled.isEmpty && conflicted.isEmpty && tags.isEmpty }

        public init() {}
    }

    /// Writes the field values and tags of `other` (another customer: a duplicate being merged
    /// into this one, or edits to such a duplicate made after the merge) into this record,
    /// never silently choosing between values.
    ///
    /// For each field of `other` (but ``mergedIntoField``):
    /// - where this record has no value (never set, or unset), each value of `other` is written
    ///   with a fresh dot superseding the empty entries: one value fills the gap, several stay
    ///   a conflict;
    /// - where this record has values, each value of `other` it does not hold is added as an
    ///   entry with a fresh dot **beside** the entries already here: the write's causal context
    ///   does not cover them, exactly as if it had been made concurrently on another replica, so
    ///   the field shows a conflict that `resolve` settles, on every replica, after sync;
    /// - for late edits (`seen` given), a field this record cleared is not a gap: the clear
    ///   stays as an empty candidate beside the edits' values (they were made concurrently);
    /// - where `other` shows values in conflict with a clear (an unset entry), the clear comes
    ///   along as an empty candidate (unless this record already shows one beside values), so
    ///   the field stays a conflict here rather than the values winning over the clear; a field
    ///   `other` only clears leaves this record's values alone.
    ///
    /// Tags of `other` are added (add-wins union). The new entries keep the value's original
    /// writer and time (`user`, `at`) for display; the dots are `author`'s, so each is a new
    /// write that syncs and joins like any other, and the join laws are untouched: the result
    /// only adds writes to this state (it dominates it).
    ///
    /// - Parameters:
    ///   - other: the record whose values are taken (its id is not checked: any state works).
    ///   - seen: when given, only entries and tag adds whose dot `seen` does not contain are
    ///     taken: the edits made to a merged duplicate after its merge (its tombstone's clock).
    ///   - author: the replica, user and time of the writes.
    /// - Returns: the fields filled and put in conflict and the tags added.
    @discardableResult
    public mutating func absorb(_ other: RecordState, unseenBy seen: VersionVector? = nil, by author: Author) -> Absorption {
        var outcome = Absorption()
        for register in other.fields where register.name != Self.mergedIntoField {
            // Distinct values of `other`, in the order every replica displays them, and the first
            // clear (an unset entry) standing among them.
            var values: [FieldEntry] = []
            var clear: FieldEntry?
            for entry in register.entries.sorted(by: { $0.displaysBefore($1) }) where seen?.contains(entry.dot) != true {
                guard let value = entry.value else {
                    if clear == nil { clear = entry }
                    continue
                }
                if !values.contains(where: { $0.value == value }) { values.append(entry) }
            }
            // A field `other` only clears leaves this record's values alone.
            if values.isEmpty { continue }
            let held = self.register(register.name)?.entries ?? []
            // A merge fills a field this record has no value in. Late edits (`seen` given) were
            // made without knowing of the merge, so a clear written here is concurrent with them:
            // it stays beside them as a candidate rather than being filled over silently.
            let isGap = seen == nil ? held.allSatisfy { $0.value == nil } : held.isEmpty
            let added = values.filter { entry in !held.contains { $0.value == entry.value } }
            // A clear in conflict with values on `other` is someone's edit too: it stands beside
            // them here (an empty candidate), unless this record already shows a clear among
            // its values. Taking only the values would choose them over the clear silently.
            let carriedClear: FieldEntry? = if let clear, isGap || !held.contains(where: { $0.value == nil }) { clear } else { nil }
            if added.isEmpty && carriedClear == nil { continue }
            var entries = isGap ? [] : held
            for entry in added + (carriedClear.map { [$0] } ?? []) {
                entries.append(FieldEntry(value: entry.value, dot: clock.mint(author), at: entry.at, user: entry.user))
            }
            entries.sort { $0.dot < $1.dot }
            replaceRegister(FieldRegister(name: register.name, entries: entries))
            if isGap && added.count == 1 && carriedClear == nil {
                outcome.filled.append(register.name)
            } else {
                outcome.conflicted.append(register.name)
            }
        }
        for tag in other.tags where !tags.contains(where: { $0.tag == tag.tag }) {
            guard seen == nil || tag.dots.contains(where: { !seen!.contains($0) }) else { continue }
            let dot = clock.mint(author)
            let insertion = tags.firstIndex(where: { $0.tag > tag.tag }) ?? tags.endIndex
            tags.insert(TagRegister(tag: tag.tag, dots: [dot]), at: insertion)
            outcome.tags.append(tag.tag)
        }
        return outcome
    }

    /// Turns this customer into the tombstone of a duplicate merged into `survivor`: one write
    /// of ``mergedIntoField``, then a delete that has seen it.
    public mutating func markMerged(into survivor: String, by author: Author) {
        let entry = FieldEntry(value: survivor, dot: clock.mint(author), at: author.at, user: author.user)
        replaceRegister(FieldRegister(name: Self.mergedIntoField, entries: [entry]))
        delete(by: author)
    }

    /// Puts `register` in place of the register of the same name (inserted in name order).
    mutating func replaceRegister(_ register: FieldRegister) {
        if let index = fieldIndex(register.name) {
            fields[index] = register
        } else {
            let insertion = fields.firstIndex(where: { $0.name > register.name }) ?? fields.endIndex
            fields.insert(register, at: insertion)
        }
    }

    /// The clock of a tombstoned record's tombstones together: what the delete (for a merged
    /// duplicate, the merge) had seen. Writes it does not contain were made after it elsewhere.
    public var tombstoneSeen: VersionVector? {
        let tombstones = deletion.filter(\.value.deleted)
        guard let first = tombstones.first else { return nil }
        return tombstones.dropFirst().reduce(first.value.seen) { $0.merging($1.value.seen) }
    }
}
