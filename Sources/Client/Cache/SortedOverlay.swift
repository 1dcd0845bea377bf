/// The one sorted-merge loop of the cache: base items arriving in ascending key order (snapshot
/// lines, index entries, by-customer pairs) overlaid with updates sorted the same way (the
/// journal's puts), so that the result comes out in key order too.
///
/// Keys are compared as bytes (`lexicographicallyPrecedes`), which is the order snapshot files
/// are sorted in (docs/cache-format.md). The caller drives the base side — it may come from a
/// file read line by line, never held in memory — and calls ``advance(to:emit:)`` for each base
/// item, then ``finish(emit:)``; ``merge(_:key:updates:emitBase:emitUpdate:)`` does both for a
/// base that is a sequence.
///
/// Readers (`forEachCustomerView`) and compaction (the snapshot tables and
/// `activities.by-customer.idx`) all merge through it, so "the journal wins over the snapshot,
/// in id order" is written once.
struct SortedOverlay<Update> {
    /// The updates, sorted by key (ascending bytes).
    private let updates: [(key: [UInt8], value: Update)]
    /// The first update not yet emitted.
    private var next = 0

    /// - Parameter updates: the updates in any order; keys must be distinct.
    init(_ updates: [(key: [UInt8], value: Update)]) {
        self.updates = updates.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    /// Whether there are no updates at all (callers then copy the base unchanged).
    var isEmpty: Bool { updates.isEmpty }

    /// Moves to the base item with `key` (base keys must come in ascending order): emits every
    /// update whose key sorts before it, then the update with the same key, if any.
    ///
    /// - Returns: `true` when an update had the same key: it replaced the base item, which the
    ///   caller must not emit.
    mutating func advance(to key: some Collection<UInt8>, emit: (Update) throws -> Void) rethrows -> Bool {
        while next < updates.count, updates[next].key.lexicographicallyPrecedes(key) {
            try emit(updates[next].value)
            next += 1
        }
        guard next < updates.count, updates[next].key.elementsEqual(key) else { return false }
        try emit(updates[next].value)
        next += 1
        return true
    }

    /// Emits the updates that sort after the last base item.
    mutating func finish(emit: (Update) throws -> Void) rethrows {
        while next < updates.count {
            try emit(updates[next].value)
            next += 1
        }
    }

    /// Merges a sorted `base` with `updates`: every item in key order, an update replacing the
    /// base item with the same key.
    ///
    /// - Parameters:
    ///   - base: the base items, ascending by `key`.
    ///   - key: the sort key of a base item.
    ///   - updates: the updates, in any order.
    ///   - emitBase: called for each base item no update replaced.
    ///   - emitUpdate: called for each update.
    static func merge<Base>(
        _ base: some Sequence<Base>, key: (Base) -> [UInt8], updates: [(key: [UInt8], value: Update)],
        emitBase: (Base) throws -> Void, emitUpdate: (Update) throws -> Void
    ) rethrows {
        var overlay = SortedOverlay(updates)
        for item in base {
            if try overlay.advance(to: key(item), emit: emitUpdate) { continue }
            try emitBase(item)
        }
        try overlay.finish(emit: emitUpdate)
    }
}
