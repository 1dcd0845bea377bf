import CXModel

/// Measures the local cache at scale: generates `customers` customers with
/// `activitiesPerCustomer` purchases each into `home`, then times, in process, the work of
/// `cx show ID`, `cx add` and `cx list --territory T --json` (open, lock, look up, write, close).
public enum CacheBenchmark {
    /// Generates the cache in `home` (replacing its cache) and returns a plain-text report.
    public static func run(home: String, customers: Int, activitiesPerCustomer: Int) throws -> String {
        let paths = Paths(configDirectory: home, dataDirectory: home)
        var report: [String] = []
        let replica = "bench-replica"
        if try Configuration.load(paths) == nil {
            try Configuration(replicaID: replica, server: nil, user: "bench").save(paths)
        }
        var rng = SeededRandomGenerator(seed: 42)
        let base = Timestamp(millisecondsSinceEpoch: 1_790_000_000_000)
        var start = POSIX.monotonicNanoseconds()
        var customerRows: [(id: String, state: [UInt8], view: [UInt8])] = []
        var activityRows: [(id: String, state: [UInt8], customer: String?)] = []
        customerRows.reserveCapacity(customers)
        activityRows.reserveCapacity(customers * activitiesPerCustomer)
        var ids: [String] = []
        let author = Author(replica: replica, user: "bench", at: base)
        for index in 0..<customers {
            let state = SampleCustomers.customer(index: index, replica: replica, at: base, using: &rng)
            customerRows.append((state.id, state.jsonBytes(), RecordView.jsonBytes(state)))
            ids.append(state.id)
            for number in 0..<activitiesPerCustomer {
                let on = CalendarDate(year: 2025, month: 1, day: 1)!.adding(days: (index + number * 37) % 700)
                let amount = "\(50 + (index * 7 + number * 13) % 900).\(10 + number % 80)"
                let fields: [String: String?] = [
                    "customer_id": state.id, "type": "purchase", "on": on.description, "amount": amount,
                    "margin": "0.1\(number % 10)", "due_on": on.adding(days: 30).description,
                    "paid_on": number % 4 == 0 ? nil : on.adding(days: 20).description,
                ]
                let activity = try RecordState.new(
                    kind: .activity, id: RecordID.random(using: &rng), fields: fields, by: author)
                activityRows.append((activity.id, activity.jsonBytes(), state.id))
            }
        }
        let generated = elapsed(since: start)
        start = POSIX.monotonicNanoseconds()
        try CacheStore.bulkLoad(
            directory: paths.cacheDirectory, customers: customerRows, activities: activityRows, conflicted: [], cursor: nil)
        let written = elapsed(since: start)
        customerRows = []
        activityRows = []
        report.append("cache: \(customers) customers, \(customers * activitiesPerCustomer) activities in \(paths.cacheDirectory)")
        report.append(String(format3("generate", generated)) + ", " + format3("write snapshot", written))

        // show: open shared, resolve an 8-character prefix, read and parse the view.
        var showTimes: [Double] = []
        for round in 0..<200 {
            let id = ids[(round * 7919) % ids.count]
            let t = POSIX.monotonicNanoseconds()
            let store = try CacheStore.open(directory: paths.cacheDirectory, exclusive: false)
            let (resolved, _) = try IDResolver.resolve(String(id.prefix(8)), in: store)
            let view = try RecordView(jsonBytes: try store.viewBytes(resolved)!)
            _ = try store.activityIDs(ofCustomer: view.id)
            store.close()
            showTimes.append(elapsed(since: t))
        }
        report.append("show ID (in process): " + summary(showTimes))

        // add: open exclusive, create a customer, append + fsync, close.
        var addTimes: [Double] = []
        for round in 0..<50 {
            let t = POSIX.monotonicNanoseconds()
            let store = try CacheStore.open(directory: paths.cacheDirectory, exclusive: true)
            let author = Author(replica: replica, user: "bench", at: .now())
            _ = try RecordEditing.create(
                kind: .customer, fields: ["name": "Bench \(round)", "territory": "north"], author: author, in: store)
            try store.compactIfNeeded()
            store.close()
            addTimes.append(elapsed(since: t))
        }
        report.append("add (in process): " + summary(addTimes))

        // list --territory north --json: stream the view file, prefilter, write JSON.
        var listTimes: [Double] = []
        var matched = 0, bytes = 0
        for _ in 0..<5 {
            let t = POSIX.monotonicNanoseconds()
            let store = try CacheStore.open(directory: paths.cacheDirectory, exclusive: false)
            matched = 0
            bytes = 0
            var output: [UInt8] = [UInt8(ascii: "[")]
            try CustomerFilter(territory: "north").forEachMatch(in: store) { line, _ in
                if matched > 0 { output.append(UInt8(ascii: ",")) }
                output.append(contentsOf: line)
                matched += 1
            }
            output.append(UInt8(ascii: "]"))
            bytes = output.count
            store.close()
            listTimes.append(elapsed(since: t))
        }
        report.append("list --territory north --json (in process, \(matched) matches, \(bytes / 1024) KiB): " + summary(listTimes))

        // compaction of the journal written by the adds.
        let t = POSIX.monotonicNanoseconds()
        let store = try CacheStore.open(directory: paths.cacheDirectory, exclusive: true)
        try store.compact()
        store.close()
        report.append(format3("compaction (rewrites customers)", elapsed(since: t)))
        return report.joined(separator: "\n")
    }

    private static func elapsed(since start: UInt64) -> Double {
        Double(POSIX.monotonicNanoseconds() - start) / 1_000_000
    }

    private static func format3(_ label: String, _ ms: Double) -> String {
        "\(label) \(Int(ms.rounded())) ms"
    }

    private static func summary(_ times: [Double]) -> String {
        let sorted = times.sorted()
        func fmt(_ value: Double) -> String { String(Double(Int(value * 100)) / 100) }
        return "median \(fmt(sorted[sorted.count / 2])) ms, p90 \(fmt(sorted[sorted.count * 9 / 10])) ms, max \(fmt(sorted.last!)) ms (\(times.count) runs)"
    }
}
