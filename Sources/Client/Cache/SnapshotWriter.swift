import CXModel

/// One record of a snapshot pull (docs/sync-protocol.md §2a), encoded for the cache's tables:
/// worked out on the threads that decode a page, while the sync writes the page before it.
struct SnapshotRecord: Sendable {
    let id: String
    let kind: RecordKind
    /// The canonical state (a line of `<kind>.jsonl`).
    let state: [UInt8]
    /// A customer's `cx show --json` object (a line of `customers.view.jsonl`).
    let view: [UInt8]?
    /// The record's ``InsightFacts`` line.
    let facts: [UInt8]
    /// An activity's displayed `customer_id` (its line in `activities.by-customer.idx`).
    let customerID: String?
    let conflicted: Bool

    init(_ state: RecordState) {
        id = state.id
        kind = state.kind
        self.state = state.jsonBytes()
        view = state.kind == .customer ? RecordView.jsonBytes(state) : nil
        facts = InsightFacts(state).jsonBytes()
        customerID = state.kind == .activity ? state.displayedValue("customer_id") : nil
        conflicted = state.hasConflicts
    }
}

/// Writes the tables of a cache generation from records that arrive in table order — the
/// customers, then the activities, each in id order, as a snapshot pull delivers them — with
/// no journal and no compaction: a first sync's records are written once, where they stay.
///
/// The files go to ``directoryName`` in the cache directory, beside the generations (writers
/// that open the cache meanwhile sweep stale `gen-` directories, not this one); the cache
/// installs them as its next generation (``CacheStore/install(_:cursor:scope:)``) or they are
/// thrown away (``discard()``). A record out of order ends the writing (``OutOfOrder``): the
/// tables' binary searches rely on it.
final class SnapshotWriter {
    /// The directory the tables are written in, inside the cache directory.
    static let directoryName = "snapshot-pull"

    /// A record arrived out of table order: the snapshot cannot be written as it comes.
    struct OutOfOrder: Error, CustomStringConvertible {
        let id: String
        var description: String { "the server sent record \(id) out of the snapshot's order" }
    }

    let directory: String
    private var customers: SnapshotTableWriter?
    private var activities: SnapshotTableWriter?
    /// The last id written, and the table it went to.
    private var last: (kind: RecordKind, id: [UInt8])?
    /// `activities.by-customer.idx` lines (without newlines), one after another: sorted at the
    /// end. One flat array (73 bytes a line), not an array per line.
    private var byCustomerLines: [UInt8] = []
    private(set) var conflicted: [String] = []

    /// Records written so far, per table.
    var customerCount: Int { customers?.count ?? 0 }
    var activityCount: Int { activities?.count ?? 0 }

    /// Starts the tables in `cacheDirectory`'s ``directoryName``, replacing what an
    /// interrupted pull left there.
    init(cacheDirectory: String) throws {
        directory = cacheDirectory + "/" + Self.directoryName
        POSIX.removeTree(directory)
        try POSIX.makeDirectories(directory)
        customers = try SnapshotTableWriter(directory: directory, name: "customers", views: true)
    }

    /// Appends a record; it must follow the one before in table order.
    func append(_ record: SnapshotRecord) throws {
        let id = Array(record.id.utf8)
        if let last {
            let inOrder = last.kind == record.kind ? last.id.lexicographicallyPrecedes(id) : last.kind == .customer
            guard inOrder else { throw OutOfOrder(id: record.id) }
        }
        last = (record.kind, id)
        switch record.kind {
        case .customer:
            try customers!.append(id: record.id, state: record.state, view: record.view, facts: record.facts)
        case .activity:
            if activities == nil { activities = try SnapshotTableWriter(directory: directory, name: "activities", views: false) }
            try activities!.append(id: record.id, state: record.state, view: [UInt8]?.none, facts: record.facts)
            // Fixed-width lines only (ids are canonical UUIDs): a line of another length
            // would shift every line after it in the flat array.
            if let customer = record.customerID, customer.utf8.count == 36, id.count == 36 {
                byCustomerLines += ByCustomerIndex.line(customer: customer, activity: id)
            }
        }
        if record.conflicted { conflicted.append(record.id) }
    }

    /// Finishes the tables (fsync'd), then writes the by-customer index and the book from them.
    func finish() throws {
        try customers?.finish()
        if activities == nil { activities = try SnapshotTableWriter(directory: directory, name: "activities", views: false) }
        try activities?.finish()
        try writeByCustomerIndex()
        try GenerationBook.write(in: directory)
    }

    /// Removes what was written.
    func discard() {
        POSIX.removeTree(directory)
    }

    /// Sorts the collected pairs (each line is its own key) and writes them.
    private func writeByCustomerIndex() throws {
        let width = ByCustomerIndex.lineWidth - 1
        let lines = byCustomerLines
        byCustomerLines = []
        let count = lines.count / width
        let writer = try BufferedWriter(path: directory + "/" + ByCustomerIndex.fileName)
        try lines.withUnsafeBufferPointer { all throws in
            func line(_ index: Int) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: all[(index * width)..<((index + 1) * width)])
            }
            let order = (0..<count).sorted { line($0).lexicographicallyPrecedes(line($1)) }
            for index in order { try ByCustomerIndex.write(line: line(index), to: writer) }
        }
        try writer.finish()
    }
}
