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

    static func joinEntries<Value>(
        _ a: [RegisterEntry<Value>], _ aClock: VersionVector,
        _ b: [RegisterEntry<Value>], _ bClock: VersionVector
    ) -> [RegisterEntry<Value>] {
        join(a, aClock, b, bClock, dot: \.dot) { x, y in
            // Deterministic choice independent of argument order.
            String(describing: x).utf8.lexicographicallyPrecedes(String(describing: y).utf8) ? x : y
        }
    }

    static func joinDots(
        _ a: [Dot], _ aClock: VersionVector, _ b: [Dot], _ bClock: VersionVector
    ) -> [Dot] {
        join(a, aClock, b, bClock, dot: { $0 }, tieBreak: { x, _ in x })
    }
}
