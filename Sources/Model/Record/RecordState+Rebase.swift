extension RecordState {
    /// This state with its knowledge of other replicas cut down to `limit`: entries of
    /// replicas that are not `own` with dots `limit` has not seen are dropped, and the clock's
    /// and tombstones' counters of those replicas are lowered to `limit`'s.
    ///
    /// A client sends this when the server refuses a state for claiming other users' writes it
    /// never received (`foreign_clock`; typically after the server was restored from a backup
    /// and lost them): only a replica's own user may re-send its writes, so the client keeps its
    /// own writes and re-bases the rest on what the server holds (`limit`, the stored clock).
    public func rebased(knowingOfOthersAtMost limit: VersionVector, own: (String) -> Bool) -> RecordState {
        func allowed(_ dot: Dot) -> Bool { own(dot.replica) || limit.contains(dot) }
        func capped(_ vector: VersionVector) -> VersionVector {
            var result = vector
            for entry in vector.entries where !own(entry.replica) && entry.counter > limit[entry.replica] {
                result.set(Dot(replica: entry.replica, counter: limit[entry.replica]))
            }
            return result
        }
        var state = self
        state.fields = fields.compactMap { register in
            let entries = register.entries.filter { allowed($0.dot) }
            return entries.isEmpty ? nil : FieldRegister(name: register.name, entries: entries)
        }
        state.tags = tags.compactMap { tag in
            let dots = tag.dots.filter(allowed)
            return dots.isEmpty ? nil : TagRegister(tag: tag.tag, dots: dots)
        }
        state.deletion = deletion.filter { allowed($0.dot) }.map {
            RegisterEntry(value: DeletionMark(deleted: $0.value.deleted, seen: capped($0.value.seen)), dot: $0.dot, at: $0.at, user: $0.user)
        }
        state.clock = capped(clock)
        return state
    }
}
