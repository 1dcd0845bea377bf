extension RecordState {
    /// Whether `other` is a state of the same record (same id and kind) and so can be merged.
    public func isSameRecord(as other: RecordState) -> Bool {
        id == other.id && kind == other.kind
    }

    /// The join of two states of the same record.
    ///
    /// `clock` is the pointwise maximum; for every field, the tag set and the deletion register
    /// the result keeps the entries present in both states, plus the entries of each state whose
    /// dot the other state's clock has not seen. Commutative, associative and idempotent.
    /// - Precondition: `isSameRecord(as: other)`; callers check ids before merging.
    public func merging(_ other: RecordState) -> RecordState {
        precondition(isSameRecord(as: other), "merging states of different records \(id) and \(other.id)")
        if self == other { return self }
        let a = self, b = other

        var mergedFields: [FieldRegister] = []
        mergedFields.reserveCapacity(Swift.max(a.fields.count, b.fields.count))
        var i = 0, j = 0
        while i < a.fields.count || j < b.fields.count {
            let register: FieldRegister
            if j == b.fields.count || (i < a.fields.count && a.fields[i].name < b.fields[j].name) {
                register = FieldRegister(name: a.fields[i].name, entries: CausalMerge.joinEntries(a.fields[i].entries, a.clock, [], b.clock))
                i += 1
            } else if i == a.fields.count || b.fields[j].name < a.fields[i].name {
                register = FieldRegister(name: b.fields[j].name, entries: CausalMerge.joinEntries([], a.clock, b.fields[j].entries, b.clock))
                j += 1
            } else {
                if a.fields[i].entries == b.fields[j].entries {
                    register = a.fields[i]
                } else {
                    register = FieldRegister(
                        name: a.fields[i].name,
                        entries: CausalMerge.joinEntries(a.fields[i].entries, a.clock, b.fields[j].entries, b.clock))
                }
                i += 1
                j += 1
            }
            if !register.entries.isEmpty { mergedFields.append(register) }
        }

        var mergedTags: [TagRegister] = []
        i = 0
        j = 0
        while i < a.tags.count || j < b.tags.count {
            let register: TagRegister
            if j == b.tags.count || (i < a.tags.count && a.tags[i].tag < b.tags[j].tag) {
                register = TagRegister(tag: a.tags[i].tag, dots: CausalMerge.joinDots(a.tags[i].dots, a.clock, [], b.clock))
                i += 1
            } else if i == a.tags.count || b.tags[j].tag < a.tags[i].tag {
                register = TagRegister(tag: b.tags[j].tag, dots: CausalMerge.joinDots([], a.clock, b.tags[j].dots, b.clock))
                j += 1
            } else {
                register = TagRegister(
                    tag: a.tags[i].tag, dots: CausalMerge.joinDots(a.tags[i].dots, a.clock, b.tags[j].dots, b.clock))
                i += 1
                j += 1
            }
            if !register.dots.isEmpty { mergedTags.append(register) }
        }

        return RecordState(
            id: id, kind: kind, clock: a.clock.merging(b.clock), fields: mergedFields, tags: mergedTags,
            deletion: CausalMerge.joinEntries(a.deletion, a.clock, b.deletion, b.clock))
    }

    /// Merges `other` into this state. See ``merging(_:)``.
    public mutating func merge(_ other: RecordState) {
        self = merging(other)
    }
}
