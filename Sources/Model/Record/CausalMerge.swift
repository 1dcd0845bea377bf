/// The join of two dotted sets under their clocks, used for field registers, the tag set and
/// the deletion register alike.
///
/// Keeps the elements present in both, the elements of `a` whose dot `bClock` has not seen, and
/// the elements of `b` whose dot `aClock` has not seen. An element one side has seen but no
/// longer holds was overwritten or removed there, so it is dropped. Both inputs are sorted by
/// dot and so is the result, which keeps the join commutative down to the byte.
enum CausalMerge {
    @inline(__always)
    static func join<Element: Hashable>(
        _ a: [Element], _ aClock: VersionVector,
        _ b: [Element], _ bClock: VersionVector,
        dot: (Element) -> Dot,
        tieBreak: (Element, Element) -> Element
    ) -> [Element] {
        if a == b { return a }
        var result: [Element] = []
        result.reserveCapacity(Swift.max(a.count, b.count))
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && dot(a[i]) < dot(b[j])) {
                if !bClock.contains(dot(a[i])) { result.append(a[i]) }
                i += 1
            } else if i == a.count || dot(b[j]) < dot(a[i]) {
                if !aClock.contains(dot(b[j])) { result.append(b[j]) }
                j += 1
            } else {
                // The same write on both sides; only a malformed peer could send two different
                // payloads for one dot, and even then both sides must pick the same one.
                result.append(a[i] == b[j] ? a[i] : tieBreak(a[i], b[j]))
                i += 1
                j += 1
            }
        }
        return result
    }

    static func joinEntries<Value: TieBreakOrdered>(
        _ a: [RegisterEntry<Value>], _ aClock: VersionVector,
        _ b: [RegisterEntry<Value>], _ bClock: VersionVector
    ) -> [RegisterEntry<Value>] {
        join(a, aClock, b, bClock, dot: \.dot) { x, y in
            // Deterministic choice independent of argument order, in time linear in the sizes
            // of the two entries (no `String(describing:)` of whole entries).
            x.tieBreakPrecedes(y) ? x : y
        }
    }

    static func joinDots(
        _ a: [Dot], _ aClock: VersionVector, _ b: [Dot], _ bClock: VersionVector
    ) -> [Dot] {
        join(a, aClock, b, bClock, dot: { $0 }, tieBreak: { x, _ in x })
    }
}

/// A total order used only to pick one of two different payloads sent for the same dot, so
/// that both sides of a merge pick the same one. Compares bytes, not canonical equivalence.
protocol TieBreakOrdered {
    /// Whether `self` is chosen over `other`.
    func tieBreakPrecedes(_ other: Self) -> Bool
}

extension Optional: TieBreakOrdered where Wrapped == String {
    func tieBreakPrecedes(_ other: String?) -> Bool {
        switch (self, other) {
        case (nil, nil): return false
        case (nil, _): return true
        case (_, nil): return false
        case let (x?, y?): return x.utf8.lexicographicallyPrecedes(y.utf8)
        }
    }
}

extension DeletionMark: TieBreakOrdered {
    func tieBreakPrecedes(_ other: DeletionMark) -> Bool {
        if deleted != other.deleted { return !deleted }
        return seen.entries.lexicographicallyPrecedes(other.seen.entries) { x, y in
            if !x.replica.utf8.elementsEqual(y.replica.utf8) { return x.replica.utf8.lexicographicallyPrecedes(y.replica.utf8) }
            return x.counter < y.counter
        }
    }
}

extension RegisterEntry where Value: TieBreakOrdered {
    /// Orders by value, then time, then user, then bytes of nothing else: a total order on the
    /// payload of one dot.
    func tieBreakPrecedes(_ other: RegisterEntry) -> Bool {
        if value.tieBreakPrecedes(other.value) { return true }
        if other.value.tieBreakPrecedes(value) { return false }
        if at != other.at { return at < other.at }
        return user.tieBreakPrecedes(other.user)
    }
}
