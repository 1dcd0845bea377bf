/// A version vector: for every replica, how many of its writes have been seen.
///
/// Stored as a list sorted by replica id with no zero counters, so equal vectors are equal
/// values and encode to the same bytes. Replicas per record are few (2–4 in practice), which
/// makes a sorted array faster than a dictionary for every operation here; look-ups are binary
/// searches, so even a vector at ``StateLimits/maximumReplicasPerClock`` costs a few comparisons.
public struct VersionVector: Hashable, Sendable, CustomStringConvertible {
    /// One `(replica, counter)` pair per replica, sorted by replica, every counter ≥ 1.
    public private(set) var entries: [Dot]

    /// The empty vector: nothing seen.
    public init() {
        entries = []
    }

    /// Creates a vector from replica counters; zero counters are dropped.
    public init(_ counters: [String: UInt64]) {
        entries = counters.filter { $0.value > 0 }
            .map { Dot(replica: $0.key, counter: $0.value) }
            .sorted()
    }

    /// Creates a vector from entries already sorted by replica with no duplicates or zeros.
    init(sortedEntries: [Dot]) {
        entries = sortedEntries
    }

    /// True when no write has been seen.
    public var isEmpty: Bool { entries.isEmpty }

    /// The counter of `replica`, 0 when none of its writes has been seen.
    public subscript(replica: String) -> UInt64 {
        let index = lowerBound(replica)
        return index < entries.count && entries[index].replica == replica ? entries[index].counter : 0
    }

    /// Whether the write identified by `dot` has been seen.
    public func contains(_ dot: Dot) -> Bool {
        self[dot.replica] >= dot.counter
    }

    /// The index of the first entry whose replica is not below `replica` (binary search).
    private func lowerBound(_ replica: String) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].replica < replica { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Records a new write by `replica` and returns its dot.
    @discardableResult
    public mutating func increment(_ replica: String) -> Dot {
        let index = lowerBound(replica)
        if index < entries.count, entries[index].replica == replica {
            let dot = Dot(replica: replica, counter: entries[index].counter + 1)
            entries[index] = dot
            return dot
        }
        let dot = Dot(replica: replica, counter: 1)
        entries.insert(dot, at: index)
        return dot
    }

    /// The pointwise maximum: everything either vector has seen.
    public func merging(_ other: VersionVector) -> VersionVector {
        if self == other { return self }
        var merged: [Dot] = []
        merged.reserveCapacity(Swift.max(entries.count, other.entries.count))
        var left = entries.makeIterator(), right = other.entries.makeIterator()
        var l = left.next(), r = right.next()
        while let a = l, let b = r {
            if a.replica == b.replica {
                merged.append(a.counter >= b.counter ? a : b)
                l = left.next()
                r = right.next()
            } else if a.replica < b.replica {
                merged.append(a)
                l = left.next()
            } else {
                merged.append(b)
                r = right.next()
            }
        }
        while let a = l { merged.append(a); l = left.next() }
        while let b = r { merged.append(b); r = right.next() }
        return VersionVector(sortedEntries: merged)
    }

    /// Merges `other` into this vector (pointwise maximum).
    public mutating func merge(_ other: VersionVector) {
        self = merging(other)
    }

    /// Compares the two vectors in causal order.
    public func compare(_ other: VersionVector) -> CausalOrder {
        var selfAhead = false, otherAhead = false
        var i = 0, j = 0
        let a = entries, b = other.entries
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].replica < b[j].replica) {
                selfAhead = true
                i += 1
            } else if i == a.count || b[j].replica < a[i].replica {
                otherAhead = true
                j += 1
            } else {
                if a[i].counter > b[j].counter { selfAhead = true }
                if a[i].counter < b[j].counter { otherAhead = true }
                i += 1
                j += 1
            }
            if selfAhead && otherAhead { return .concurrent }
        }
        switch (selfAhead, otherAhead) {
        case (false, false): return .equal
        case (true, false): return .after
        case (false, true): return .before
        case (true, true): return .concurrent
        }
    }

    /// Whether this vector has seen every write `other` has seen.
    public func dominates(_ other: VersionVector) -> Bool {
        let order = compare(other)
        return order == .after || order == .equal
    }

    public var description: String {
        "{" + entries.map { "\($0.replica):\($0.counter)" }.joined(separator: ", ") + "}"
    }
}
