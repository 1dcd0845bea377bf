import CXModel

extension CacheStore {
    /// Calls `body` with the decoded state of every cached record (customers, then activities,
    /// then records first or last written in the journal), each exactly once: snapshot lines
    /// superseded by a journal put or dropped by the journal are skipped without being decoded.
    public func forEachState(_ body: (RecordState) throws -> Void) throws {
        let journal = journal
        let journalIsEmpty = journal.puts.isEmpty && journal.dropped.isEmpty
        for table in [customers, activities] {
            guard let file = table?.stateFile else { continue }
            try LineReader(file: file).forEachLine { line in
                guard !line.isEmpty else { return true }
                guard let range = StateLineID.range(in: line) else {
                    // Not a line cx writes: decode it to learn its id (and fail if it is damaged).
                    let state = try decode(line, id: "a line of \(file)")
                    if !journalIsEmpty, journal.supersedes(state.id) { return true }
                    try body(state)
                    return true
                }
                let id = String(decoding: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self)
                if !journalIsEmpty, journal.supersedes(id) { return true }
                try body(decode(line, id: id))
                return true
            }
        }
        for (id, put) in journal.puts {
            try body(decode(journal.stateBytes(put), id: id))
        }
    }

    /// Whether every snapshot table keeps its records' facts (generations written before facts
    /// were kept do not, until their next compaction).
    var snapshotHasFacts: Bool { (customers?.hasFacts ?? true) && (activities?.hasFacts ?? true) }

    /// A book of every cached customer and activity: the generation's `book.bin`
    /// (``GenerationBook``: nothing parsed) or else its facts lines (no state decoded), with the
    /// journal's puts laid over. A generation written before facts were kept is read by
    /// decoding every state instead.
    ///
    /// Without `book.bin`, a report reads 600,000 facts lines: they are read by two workers
    /// (both cores of a laptop), each into its own ``CustomerBookBuilder`` over about half of
    /// the bytes, and the halves joined in file order.
    public func customerBook() throws -> CustomerBook {
        guard snapshotHasFacts else {
            var builder = CustomerBookBuilder()
            try forEachState { builder.add($0) }
            return builder.build()
        }
        if var builder = try bookFileBuilder() {
            try addJournalPuts(to: &builder)
            return builder.build()
        }
        let journal = journal
        let shares = try factsShares()
        let customerCount = customers?.count ?? 0
        // Each worker builds its own share from its own files' bytes (read with `pread`: no
        // shared offset); the journal is an immutable value.
        let builders = try ParallelMap.map(shares.count) { worker in
            var builder = CustomerBookBuilder(expectedCustomers: customerCount)
            for part in shares[worker] {
                try Self.forEachFactsLine(in: part, skipping: journal) { line throws(JSONScanner.Failure) in
                    try builder.add(factsLine: line)
                }
            }
            return builder
        }
        var builder = CustomerBookBuilder()
        for share in builders { builder.append(share) }
        try addJournalPuts(to: &builder)
        return builder.build()
    }

    /// Adds the facts of every journal put (known without decoding when this process wrote it).
    private func addJournalPuts(to builder: inout CustomerBookBuilder) throws {
        for (id, put) in journal.puts {
            if let known = committedFacts[id], (try? known.withUnsafeBufferPointer { try builder.add(factsLine: $0) }) != nil {
                continue
            }
            builder.add(try decode(journal.stateBytes(put), id: id))
        }
    }

    /// A builder holding the generation's `book.bin` minus the records the journal puts or
    /// drops; `nil` when the generation has no usable `book.bin` (then the facts are read).
    private func bookFileBuilder() throws -> CustomerBookBuilder? {
        guard let generationDirectory, let file = try GenerationBook.read(in: generationDirectory),
            // A file that does not describe these tables (copied in by hand) is not used.
            let counts = BookFile.counts(of: file), counts == (customers?.count ?? 0, activities?.count ?? 0)
        else { return nil }
        var skippedCustomers: Set<Int> = [], skippedActivities: Set<Int> = []
        let touched = journal.puts.map { ($0.key, $0.value.kind) } + journal.dropped.map { ($0.key, $0.value) }
        for (id, kind) in touched {
            guard let table = kind == .customer ? customers : activities, let position = try table.position(of: id) else { continue }
            if kind == .customer { skippedCustomers.insert(position) } else { skippedActivities.insert(position) }
        }
        return try? CustomerBookBuilder(bookFile: file, skippingCustomers: skippedCustomers, skippingActivities: skippedActivities)
    }

    /// A byte range of one facts file.
    private struct FactsPart {
        let file: FileHandle
        let range: Range<Int>
    }

    /// The facts files split into the workers' shares, in file order: customers then
    /// activities, the activities split on a line boundary so both shares hold about as much
    /// work. One share when the book is small (a thread would cost more than it saves).
    private func factsShares() throws -> [[FactsPart]] {
        var parts: [FactsPart] = []
        for file in [customers?.factsFile, activities?.factsFile].compactMap({ $0 }) {
            parts.append(FactsPart(file: file, range: 0..<(try file.size())))
        }
        let total = parts.reduce(0) { $0 + $1.range.count }
        guard total >= 4 << 20, let activities = parts.last, parts.count == 2 else { return [parts] }
        // A customer line costs about twice an activity line's work per byte (five strings and
        // two table entries against one key lookup): the shares are about equal in work.
        let customers = parts[0], customerWork = customers.range.count * 2
        let half = (customerWork + activities.range.count) / 2
        guard customerWork < half else { return [[customers], [activities]] }
        let split = try LineReader.lineBoundary(in: activities.file, near: half - customerWork, size: activities.range.count)
        return [
            [customers, FactsPart(file: activities.file, range: 0..<split)],
            [FactsPart(file: activities.file, range: split..<activities.range.count)],
        ]
    }

    /// Calls `read` with each facts line of `part` whose record the journal does not supersede.
    private static func forEachFactsLine(
        in part: FactsPart, skipping journal: Journal, _ read: (UnsafeBufferPointer<UInt8>) throws(JSONScanner.Failure) -> Void
    ) throws {
        let journalIsEmpty = journal.puts.isEmpty && journal.dropped.isEmpty
        try LineReader(file: part.file, range: part.range).forEachLine { line in
            // A facts line starts `["<36-byte id>"`.
            if !journalIsEmpty, line.count > 38,
                journal.supersedes(String(decoding: UnsafeBufferPointer(rebasing: line[2..<38]), as: UTF8.self))
            {
                return true
            }
            do {
                try read(line)
            } catch {
                throw CXError(.failure, "the cache file \(part.file.path) is unreadable (\(error))",
                              hint: "Move the cache directory away and run `cx sync` to download the data again.")
            }
            return true
        }
    }
}

/// Reads the activities of one customer, for the status `cx show` computes at read time: the
/// journal is indexed by customer once, then the customer costs one binary search of
/// `activities.by-customer.idx` and one index search plus one line per activity. (Whole-book
/// reads — `list --status`, reports — use ``CacheStore/forEachFacts(_:)`` instead.)
final class CustomerActivityReader {
    private let store: CacheStore
    private var journalByCustomer: [String: [String]] = [:]
    private var journalActivities: Set<String> = []

    init(_ store: CacheStore) {
        self.store = store
        for (id, put) in store.journal.puts where put.kind == .activity {
            journalActivities.insert(id)
            if let customer = put.customerID { journalByCustomer[customer, default: []].append(id) }
        }
        // Dropped activities are skipped in the snapshot like superseded ones, and have no put.
        for (id, kind) in store.journal.dropped where kind == .activity { journalActivities.insert(id) }
    }

    /// The decoded states of `customerID`'s activities (deleted ones included).
    func activityStates(of customerID: String) throws -> [RecordState] {
        var states: [RecordState] = []
        if let activities = store.activities, let index = store.byCustomer {
            for id in try index.activityIDs(of: customerID) where !journalActivities.contains(id) {
                if let entry = try activities.find(id) {
                    states.append(try store.decode(activities.stateBytes(entry), id: id))
                }
            }
        }
        for id in journalByCustomer[customerID] ?? [] {
            if let put = store.journal.puts[id] { states.append(try store.decode(store.journal.stateBytes(put), id: id)) }
        }
        return states
    }

    /// A book of `customerID`'s cached activities alone (what its classification and value read).
    func book(of customerID: String) throws -> CustomerBook {
        var book = CustomerBook()
        for state in try activityStates(of: customerID) { book.add(state) }
        return book
    }
}

/// Adds `"status"` (and optionally `"status_reason"`, then `extra`, e.g. `,"value":{…}`) to a
/// customer's view JSON, between `"deleted"` and `"conflicts"` as in the CLI contract.
enum StatusJSON {
    static let conflictsKey = Array(",\"conflicts\":".utf8)

    static func insert(
        into view: UnsafeBufferPointer<UInt8>, status: CustomerStatus, reason: String?, extra: [UInt8] = [], output: inout [UInt8]
    ) {
        // The first `,"conflicts":` is the top-level key: inside JSON strings `"` is escaped.
        var split = view.count
        if view.count >= conflictsKey.count {
            var i = 0
            let last = view.count - conflictsKey.count
            while i <= last {
                if view[i] == UInt8(ascii: ","), view[i + 1] == UInt8(ascii: "\""),
                    view[i + 2] == UInt8(ascii: "c"), UnsafeBufferPointer(rebasing: view[i..<(i + conflictsKey.count)]).elementsEqual(conflictsKey)
                {
                    split = i
                    break
                }
                i += 1
            }
        }
        if split == view.count { split = Swift.max(0, view.count - 1) }  // before the closing brace
        output.append(contentsOf: UnsafeBufferPointer(rebasing: view[0..<split]))
        var w = JSONWriter(capacity: 64)
        w.raw(",\"status\":")
        w.string(status.rawValue)
        if let reason {
            w.raw(",\"status_reason\":")
            w.string(reason)
        }
        w.rawJSON(extra)
        output.append(contentsOf: w.bytes)
        output.append(contentsOf: UnsafeBufferPointer(rebasing: view[split...]))
    }

    static func insert(into view: [UInt8], status: CustomerStatus, reason: String?, extra: [UInt8] = []) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(view.count + 64 + extra.count)
        view.withUnsafeBufferPointer { insert(into: $0, status: status, reason: reason, extra: extra, output: &output) }
        return output
    }
}
