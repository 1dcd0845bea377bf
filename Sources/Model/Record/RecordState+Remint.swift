extension RecordState {
    /// This state with the writes of replica `old` above counter `threshold` re-issued as new
    /// writes of replica `new`: same values, users and times, fresh dots.
    ///
    /// A replica that finds it was forked (its cache restored from a backup or copied to a
    /// second laptop, and the other copy synced first) can no longer vouch for its dots above
    /// the last counter the server confirmed: the other copy may have minted the same dots for
    /// other writes. Re-minting keeps every value, and lowers the state's knowledge of `old` to
    /// `threshold`, so the other copy's writes the server holds stay concurrent with these
    /// (a conflict a person resolves) instead of being taken as already seen and dropped.
    ///
    /// - Parameters:
    ///   - old: the forked replica.
    ///   - threshold: the highest counter of `old` known to be shared history.
    ///   - new: the replica that re-issues the writes (a fresh incarnation).
    ///   - floor: the highest counter `new` has minted so far.
    /// - Returns: the new state and the highest counter of `new` it used (`floor` when nothing
    ///   needed re-minting).
    public func reminting(_ old: String, above threshold: UInt64, as new: String, after floor: UInt64) -> (state: RecordState, lastCounter: UInt64) {
        var counters: [UInt64] = []
        for dot in allDots where dot.replica == old && dot.counter > threshold { counters.append(dot.counter) }
        guard !counters.isEmpty || clock[old] > threshold else { return (self, floor) }
        counters = Array(Set(counters)).sorted()
        let base = Swift.max(floor, clock[new])
        var mapping: [UInt64: UInt64] = [:]
        for (index, counter) in counters.enumerated() { mapping[counter] = base + UInt64(index) + 1 }
        func remap(_ dot: Dot) -> Dot {
            guard dot.replica == old, let counter = mapping[dot.counter] else { return dot }
            return Dot(replica: new, counter: counter)
        }
        /// The counter of `new` standing for everything of `old` up to `counter`.
        func remapSeen(_ seen: VersionVector) -> VersionVector {
            let known = seen[old]
            guard known > threshold else { return seen }
            var result = seen
            result.set(Dot(replica: old, counter: threshold))
            if let largest = counters.last(where: { $0 <= known }), let mapped = mapping[largest] {
                result.set(Dot(replica: new, counter: Swift.max(result[new], mapped)))
            }
            return result
        }

        var state = self
        state.fields = fields.map { register in
            FieldRegister(
                name: register.name,
                entries: register.entries.map { FieldEntry(value: $0.value, dot: remap($0.dot), at: $0.at, user: $0.user) }
                    .sorted { $0.dot < $1.dot })
        }
        state.tags = tags.map { TagRegister(tag: $0.tag, dots: $0.dots.map(remap).sorted()) }
        state.deletion = deletion.map {
            RegisterEntry(
                value: DeletionMark(deleted: $0.value.deleted, seen: remapSeen($0.value.seen)), dot: remap($0.dot), at: $0.at,
                user: $0.user)
        }.sorted { $0.dot < $1.dot }
        var clock = self.clock
        clock.set(Dot(replica: old, counter: Swift.min(clock[old], threshold)))
        // A write that left no entry (a tag removal) still counts as one write of `new`.
        let last = mapping.values.max() ?? base + 1
        clock.set(Dot(replica: new, counter: Swift.max(clock[new], last)))
        state.clock = clock
        return (state, last)
    }
}
