/// The first position in `0..<count` whose item is not below the key searched for, given that
/// the items below it form a prefix (the items are sorted): a binary search.
///
/// The one binary search of the cache: snapshot indexes searched with `pread`
/// (``SnapshotTable``, ``ByCustomerIndex``), the same files searched in memory
/// (``CustomerActivityReader``), and the journal's chunks (``Journal/bytes(in:)``).
///
/// - Parameters:
///   - count: the number of items.
///   - isBelow: whether the item at a position sorts below the key.
func lowerBound<E: Error>(count: Int, isBelow: (Int) throws(E) -> Bool) throws(E) -> Int {
    var low = 0, high = count
    while low < high {
        let mid = (low + high) / 2
        if try isBelow(mid) { low = mid + 1 } else { high = mid }
    }
    return low
}
