extension CustomerBaseMetrics {
    /// One group of a breakdown: the customers sharing a value of the dimension.
    public struct Group: Hashable, Sendable {
        /// The dimension's value (`""`: customers without one).
        public let value: String
        /// The group's metrics; status counts cover the group's customers only.
        public let metrics: CustomerBaseMetrics
    }

    /// The metrics of [start, end) for each group of `book`'s customers sharing a value of
    /// `dimension`, in ascending order of value, and for all of them (`total`, equal to
    /// ``init(book:start:end:settings:)``). Every customer is in exactly one group, so the
    /// groups' counts and revenues add up to the total's.
    public static func breakdown(
        book: CustomerBook, by dimension: MetricsDimension, start: CalendarDate, end: CalendarDate,
        settings: ClassificationSettings = .default
    ) async -> (groups: [Group], total: CustomerBaseMetrics) {
        let grouped = book.histories(groupedBy: dimension.value(of:))
        let values = grouped.keys.sorted()
        // Each group's metrics and the total's are independent: computed side by side.
        let metrics = await concurrentMap(values.map { grouped[$0]! } + [book.histories()]) { histories in
            CustomerBaseMetrics(histories: histories, start: start, end: end, settings: settings)
        }
        return (zip(values, metrics).map { Group(value: $0, metrics: $1) }, metrics.last!)
    }

    /// The metrics of each period of `step` covering [from, to) (``ReportingStep/periods(from:to:)``).
    public static func series(
        book: CustomerBook, from: CalendarDate, to: CalendarDate, every step: ReportingStep,
        settings: ClassificationSettings = .default
    ) async -> [CustomerBaseMetrics] {
        let histories = book.histories()
        // Periods are independent: computed side by side.
        return await concurrentMap(step.periods(from: from, to: to)) { period in
            CustomerBaseMetrics(histories: histories, start: period.start, end: period.end, settings: settings)
        }
    }

    /// `items.map(transform)`, each item in a child task: the metrics of one period or group
    /// pass over every customer's history, and a laptop's other core can take half of them.
    private static func concurrentMap<Item: Sendable>(
        _ items: [Item], _ transform: @escaping @Sendable (Item) -> CustomerBaseMetrics
    ) async -> [CustomerBaseMetrics] {
        guard items.count > 1 else { return items.map(transform) }
        return await withTaskGroup(of: (Int, CustomerBaseMetrics).self) { group in
            for (index, item) in items.enumerated() { group.addTask { (index, transform(item)) } }
            var results = [CustomerBaseMetrics?](repeating: nil, count: items.count)
            for await (index, metrics) in group { results[index] = metrics }
            return results.map { $0! }
        }
    }
}
