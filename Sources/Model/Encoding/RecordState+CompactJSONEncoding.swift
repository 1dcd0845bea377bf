extension RecordState {
    /// The compact form (docs/sync-protocol.md §6):
    ///
    ///     {"v":2,"id":"…","kind":"customer",
    ///      "replicas":["anna-laptop"],"clock":[3],
    ///      "writes":[[0,1763630100000,"anna"]],
    ///      "fields":{"name":[["Müller & Söhne KG",0,1]],"phone":[["+49 30 1234567",0,2]]},
    ///      "tags":{"wholesale":[[0,3]]},
    ///      "deletion":[]}
    ///
    /// `replicas` lists the clock's replicas in its order and `clock` their counters. A write's
    /// provenance — replica (an index into `replicas`), time (milliseconds since the Unix epoch)
    /// and user (or `null`) — is stored once in `writes`, in order of first use; a field entry is
    /// `[value, write, counter]`, a tag add `[replica, counter]`, a deletion entry
    /// `[deleted, seen, write, counter]` with `seen` a clock object as in the expanded form.
    func encodeCompact(into w: inout JSONWriter) {
        let replicas = clock.entries
        w.raw("{\"v\":2,\"id\":")
        w.string(id)
        w.raw(",\"kind\":")
        w.string(kind.rawValue)
        w.raw(",\"replicas\":[")
        for (index, entry) in replicas.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(entry.replica)
        }
        w.raw("],\"clock\":[")
        for (index, entry) in replicas.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.number(entry.counter)
        }
        var writes = CompactWrites(replicas: replicas)
        for register in fields {
            for entry in register.entries { writes.index(of: entry.dot.replica, at: entry.at, user: entry.user) }
        }
        for entry in deletion { writes.index(of: entry.dot.replica, at: entry.at, user: entry.user) }
        w.raw("],\"writes\":[")
        for (index, write) in writes.table.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.byte(UInt8(ascii: "["))
            w.number(UInt64(write.replica))
            w.byte(UInt8(ascii: ","))
            w.number(write.at.millisecondsSinceEpoch)
            w.byte(UInt8(ascii: ","))
            w.optionalString(write.user)
            w.byte(UInt8(ascii: "]"))
        }
        w.raw("],\"fields\":{")
        for (index, register) in fields.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(register.name)
            w.raw(":[")
            for (entryIndex, entry) in register.entries.enumerated() {
                if entryIndex > 0 { w.byte(UInt8(ascii: ",")) }
                w.byte(UInt8(ascii: "["))
                w.optionalString(entry.value)
                w.byte(UInt8(ascii: ","))
                w.number(UInt64(writes.index(of: entry.dot.replica, at: entry.at, user: entry.user)))
                w.byte(UInt8(ascii: ","))
                w.number(entry.dot.counter)
                w.byte(UInt8(ascii: "]"))
            }
            w.byte(UInt8(ascii: "]"))
        }
        w.raw("},\"tags\":{")
        for (index, tag) in tags.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(tag.tag)
            w.raw(":[")
            for (dotIndex, dot) in tag.dots.enumerated() {
                if dotIndex > 0 { w.byte(UInt8(ascii: ",")) }
                w.byte(UInt8(ascii: "["))
                w.number(UInt64(writes.replicaIndex(dot.replica)))
                w.byte(UInt8(ascii: ","))
                w.number(dot.counter)
                w.byte(UInt8(ascii: "]"))
            }
            w.byte(UInt8(ascii: "]"))
        }
        w.raw("},\"deletion\":[")
        for (index, entry) in deletion.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.byte(UInt8(ascii: "["))
            w.bool(entry.value.deleted)
            w.byte(UInt8(ascii: ","))
            entry.value.seen.encode(into: &w)
            w.byte(UInt8(ascii: ","))
            w.number(UInt64(writes.index(of: entry.dot.replica, at: entry.at, user: entry.user)))
            w.byte(UInt8(ascii: ","))
            w.number(entry.dot.counter)
            w.byte(UInt8(ascii: "]"))
        }
        w.raw("]}")
    }
}

/// The `writes` table of a compact state being written: each distinct (replica, time, user)
/// once, numbered in order of first use.
private struct CompactWrites {
    struct Write: Hashable {
        var replica: Int
        var at: Timestamp
        var user: String?
    }

    /// The clock's entries: a replica's index in the state is its position here.
    let replicas: [Dot]
    private(set) var table: [Write] = []
    private var numbers: [Write: Int] = [:]
    /// The last write looked up: consecutive entries of a record mostly share their write.
    private var last: (write: Write, index: Int)?

    init(replicas: [Dot]) {
        self.replicas = replicas
    }

    /// The position of `replica` in the clock (every dot of a valid state is covered by it).
    func replicaIndex(_ replica: String) -> Int {
        var low = 0, high = replicas.count
        while low < high {
            let mid = (low + high) / 2
            if replicas[mid].replica < replica { low = mid + 1 } else { high = mid }
        }
        precondition(low < replicas.count && replicas[low].replica == replica, "a dot's replica is missing from the clock")
        return low
    }

    /// The number of the write, added to the table at its first use.
    @discardableResult
    mutating func index(of replica: String, at: Timestamp, user: String?) -> Int {
        let write = Write(replica: replicaIndex(replica), at: at, user: user)
        if let last, last.write == write { return last.index }
        let index: Int
        if let known = numbers[write] {
            index = known
        } else {
            index = table.count
            table.append(write)
            numbers[write] = index
        }
        last = (write, index)
        return index
    }
}
