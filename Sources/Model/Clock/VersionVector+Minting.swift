extension VersionVector {
    /// The largest counter a dot may carry: 2^53 − 1, so counters survive every JSON reader
    /// (IEEE doubles) and PostgreSQL's `bigint` with room to spare. A replica writing a million
    /// times a second would need 285 years to reach it; a larger counter is a forged clock.
    public static let maximumCounter: UInt64 = (1 << 53) - 1

    /// Records a new write by `author` and returns its dot: the counter is one above both this
    /// vector's counter for the replica and the replica's ``Author/counterFloor``.
    @discardableResult
    public mutating func mint(_ author: Author) -> Dot {
        let counter = Swift.max(self[author.replica], author.counterFloor) + 1
        let dot = Dot(replica: author.replica, counter: counter)
        set(dot)
        return dot
    }

    /// Sets the counter of `dot.replica` to `dot.counter` (0 removes the replica).
    mutating func set(_ dot: Dot) {
        var updated = entries.filter { $0.replica != dot.replica }
        if dot.counter > 0 {
            let insertion = updated.firstIndex(where: { $0.replica > dot.replica }) ?? updated.endIndex
            updated.insert(dot, at: insertion)
        }
        self = VersionVector(sortedEntries: updated)
    }

    /// The largest counter of any replica (0 when empty).
    public var largestCounter: UInt64 {
        entries.reduce(0) { Swift.max($0, $1.counter) }
    }
}
