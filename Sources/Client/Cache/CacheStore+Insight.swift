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
                guard line.count > 43 else { return true }
                // A state line starts `{"id":"<36 bytes>"`.
                let id = String(decoding: UnsafeBufferPointer(rebasing: line[7..<43]), as: UTF8.self)
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

    /// Calls `body` with the ``InsightFacts`` of every cached record, each exactly once: read
    /// from the snapshot's facts files (no state is decoded) with the journal's puts laid over.
    /// Without facts files (an old generation), every state is decoded instead.
    public func forEachFacts(_ body: (InsightFacts) throws -> Void) throws {
        guard snapshotHasFacts else { return try forEachState { try body(InsightFacts($0)) } }
        let journal = journal
        let journalIsEmpty = journal.puts.isEmpty && journal.dropped.isEmpty
        for table in [customers, activities] {
            guard let file = table?.factsFile else { continue }
            try LineReader(file: file).forEachLine { line in
                // A facts line starts `["<36-byte id>"`.
                if !journalIsEmpty, line.count > 38,
                    journal.supersedes(String(decoding: UnsafeBufferPointer(rebasing: line[2..<38]), as: UTF8.self))
                {
                    return true
                }
                do {
                    try body(InsightFacts(jsonBytes: line))
                } catch let failure as JSONScanner.Failure {
                    throw CXError(.failure, "the cache file \(file.path) is unreadable (\(failure))",
                                  hint: "Move the cache directory away and run `cx sync` to download the data again.")
                }
                return true
            }
        }
        for (id, put) in journal.puts {
            if let known = committedFacts[id], let facts = try? InsightFacts(jsonBytes: known) {
                try body(facts)
            } else {
                try body(InsightFacts(decode(journal.stateBytes(put), id: id)))
            }
        }
    }

    /// A book of every cached customer and activity, from their facts.
    public func customerBook() throws -> CustomerBook {
        var book = CustomerBook()
        try forEachFacts { book.add($0) }
        return book
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

    /// The classification of `customerID` as of `date`, from its cached activities.
    func assess(_ customerID: String, asOf date: CalendarDate, classifier: CustomerClassifier) throws -> CustomerClassifier.Assessment {
        var book = CustomerBook()
        for state in try activityStates(of: customerID) { book.add(state) }
        return classifier.assess(customerID, in: book, asOf: date)
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
