import CXModel
import CXPostgres

/// The accepted writes of one push (or one chunk of an import), each sent the cheapest way
/// that still writes exactly what the push path's upsert wrote (docs/benchmarks.md, "Push
/// writes by COPY"):
///
/// - records new to the server by `COPY` (``NewRecordWrites``),
/// - stored records changed in place — a customer keeping its territory, an activity keeping
///   its customer — by `COPY` into a staging table and one `UPDATE … FROM`
///   (``ChangedRecordWrites``),
/// - moves, which leave territory exits and re-number activities, by the upsert (``PushWrites``);
///   so does everything in a set of fewer than ``copyThreshold`` records.
///
/// PostgreSQL then parses each state once, as the `state` column's `jsonb`, instead of a
/// `jsonb` document per thousand rows that repeats every typed column beside the state.
///
/// ``add(_:replacing:)`` only encodes (no connection), so the encoding can run beside the
/// connection's work. ``apply(on:)`` must run inside a transaction holding the sequence lock
/// (``RecordStore/takeSequenceLock(on:)``) from before it to the commit.
struct RecordWriteSet: Sendable {
    private var inserts = NewRecordWrites()
    private var changes = ChangedRecordWrites()
    private var upserts = PushWrites()
    /// Whether everything goes by upsert: a set of a few records, where COPY's extra
    /// statements (sequence numbers, two COPYs, a staging table) cost more than parsing a small
    /// document saves — many clients pushing a few records each (docs/benchmarks.md).
    private let upsertsAll: Bool

    /// Sets of fewer records than this go by upsert (see ``upsertsAll``).
    static let copyThreshold = 100

    /// The ids of the records written, in the order added.
    private(set) var ids: [String] = []

    /// How many records are written.
    var count: Int { ids.count }

    /// A set for about `expected` records (what decides the way they are sent).
    init(expecting expected: Int) {
        upsertsAll = expected < Self.copyThreshold
    }

    /// Adds `merged`, which replaces the stored `previous` (`nil`: a record no stored row has),
    /// written by `writer` (whom its audit row names); `encoded`, for a new record, holds its
    /// rows encoded ahead (``NewRecordWrites/encode(_:by:)``).
    mutating func add(
        _ merged: RecordState, replacing previous: RecordState?, by writer: RecordStore.Writer, encoded: NewRecordWrites.Encoded? = nil
    ) {
        ids.append(merged.id)
        if upsertsAll { return upserts.add(merged, replacing: previous, by: writer) }
        guard let previous else { return inserts.add(merged, by: writer, encoded: encoded) }
        if ChangedRecordWrites.takes(merged, replacing: previous) {
            changes.add(merged, replacing: previous, by: writer)
        } else {
            upserts.add(merged, replacing: previous, by: writer)
        }
    }

    /// A write: `merged` replaces `previous` (`nil` for a new record), by `writer`; a new
    /// record's rows may come `encoded` ahead.
    struct Write: Sendable {
        var merged: RecordState
        var previous: RecordState?
        var writer: RecordStore.Writer
        var encoded: NewRecordWrites.Encoded? = nil
    }

    /// Writes of one set sent while the next is encoded (``write(_:by:on:)``).
    static let pipelineChunk = 250
    /// The first set is smaller: nothing overlaps its encoding, which the connection waits for.
    static let pipelineFirstChunk = 64

    /// Writes `writes` in their order, inside the caller's transaction (which holds the sequence
    /// lock): a few at once, or many whose rows were encoded ahead (a group commit's new
    /// records); more in sets of ``pipelineChunk`` (the first of ``pipelineFirstChunk``), each
    /// encoded on another thread while the connection sends the set before it, so encoding and
    /// PostgreSQL's work overlap. Every set costs its own statements (sequence numbers, two
    /// `COPY`s, re-numbering), so writes with nothing left to encode go as one.
    /// Sets go one after another, each in ``apply(on:)``'s order; with customers before
    /// activities in `writes` (as a push orders them) its guarantees hold across sets too.
    static func write(_ writes: [Write], on connection: PostgresConnection) throws {
        @Sendable func encoded(_ part: ArraySlice<Write>) -> RecordWriteSet {
            var set = RecordWriteSet(expecting: writes.count)
            for write in part { set.add(write.merged, replacing: write.previous, by: write.writer, encoded: write.encoded) }
            return set
        }
        let toEncode = writes.reduce(0) { $0 + ($1.encoded == nil ? 1 : 0) }
        guard toEncode > pipelineChunk else { return try encoded(writes[...]).apply(on: connection) }
        let parts = [writes[0..<pipelineFirstChunk]]
            + stride(from: pipelineFirstChunk, to: writes.count, by: pipelineChunk).map { writes[$0..<Swift.min($0 + pipelineChunk, writes.count)] }
        var next = OffThread { encoded(parts[0]) }
        for index in parts.indices {
            let set = try next.value()
            if index + 1 < parts.count {
                let part = parts[index + 1]
                next = OffThread { encoded(part) }
            }
            try set.apply(on: connection)
        }
    }

    /// Writes everything, inside the caller's transaction (which holds the sequence lock).
    ///
    /// The order keeps the guarantees of the single upsert it replaces: customers are written
    /// before the moves, so an activity's exit names its old customer's territory as it stands
    /// after this write; activities go last, so an activity whose customer arrived or moved in
    /// this write takes its number after the re-numbering that follows from that, and every
    /// audit row carries its record's final number.
    func apply(on connection: PostgresConnection) throws {
        try inserts.apply(.customer, on: connection)
        try changes.apply(.customer, on: connection)
        try upserts.apply(on: connection)
        try inserts.apply(.activity, on: connection)
        try changes.apply(.activity, on: connection)
    }
}
