import CXModel

extension CacheStore {
    /// Writes a whole cache generation from scratch (benchmarks, tests): `states` become the
    /// snapshot, with no pending changes. Replaces whatever the cache held.
    public static func bulkLoad(directory: String, states: [RecordState], cursor: String? = nil) throws {
        var customers: [(id: String, state: [UInt8], view: [UInt8], facts: [UInt8])] = []
        var activities: [(id: String, state: [UInt8], customer: String?, facts: [UInt8])] = []
        var conflicted: [String] = []
        for state in states {
            if state.hasConflicts { conflicted.append(state.id) }
            switch state.kind {
            case .customer:
                customers.append((state.id, state.jsonBytes(), RecordView.jsonBytes(state), InsightFacts(state).jsonBytes()))
            case .activity:
                activities.append((state.id, state.jsonBytes(), state.displayedValue("customer_id"), InsightFacts(state).jsonBytes()))
            }
        }
        try bulkLoad(directory: directory, customers: customers, activities: activities, conflicted: conflicted, cursor: cursor)
    }

    /// Writes a generation from encoded records (any order).
    static func bulkLoad(
        directory: String, customers: [(id: String, state: [UInt8], view: [UInt8], facts: [UInt8])],
        activities: [(id: String, state: [UInt8], customer: String?, facts: [UInt8])], conflicted: [String], cursor: String?
    ) throws {
        let store = try CacheStore.open(directory: directory, exclusive: true)
        defer { store.close() }
        let name = generationName(1)
        let target = directory + "/" + name
        POSIX.removeTree(target)
        try POSIX.makeDirectories(target)

        func writeTable(_ name: String, _ rows: [(id: String, state: [UInt8], view: [UInt8]?, facts: [UInt8])]) throws {
            let writer = try SnapshotTableWriter(directory: target, name: name, views: rows.first?.view != nil)
            for row in rows { try writer.append(id: row.id, state: row.state, view: row.view, facts: row.facts) }
            try writer.finish()
        }
        try writeTable("customers", customers.sorted { $0.id < $1.id }.map { ($0.id, $0.state, $0.view, $0.facts) })
        try writeTable("activities", activities.sorted { $0.id < $1.id }.map { ($0.id, $0.state, nil, $0.facts) })
        try GenerationBook.write(in: target)
        let lines = activities.compactMap { activity in
            activity.customer.map { ByCustomerIndex.line(customer: $0, activity: activity.id.utf8) }
        }
        let byCustomer = try BufferedWriter(path: target + "/" + ByCustomerIndex.fileName)
        for line in lines.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            try ByCustomerIndex.write(line: line, to: byCustomer)
        }
        try byCustomer.finish()
        try POSIX.writeAtomically(Array(conflicted.sorted().map { $0 + "\n" }.joined().utf8), to: target + "/conflicted.txt")
        var meta = SnapshotMeta()
        meta.generation = 1
        meta.customers = customers.count
        meta.activities = activities.count
        meta.cursor = cursor
        try POSIX.writeAtomically(meta.jsonBytes(), to: target + "/meta.json")
        try POSIX.syncDirectory(target)
        try POSIX.writeAtomically(Array((name + "\n").utf8), to: directory + "/CURRENT")
        for entry in POSIX.listDirectory(directory) where entry.hasPrefix("gen-") && entry != name {
            POSIX.removeTree(directory + "/" + entry)
        }
    }
}
