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
    ) -> (groups: [Group], total: CustomerBaseMetrics) {
        let books = book.partitioned(by: dimension.value(of:))
        let groups = books.keys.sorted().map { value in
            Group(value: value, metrics: CustomerBaseMetrics(book: books[value]!, start: start, end: end, settings: settings))
        }
        return (groups, CustomerBaseMetrics(book: book, start: start, end: end, settings: settings))
    }

    /// The metrics of each period of `step` covering [from, to) (``ReportingStep/periods(from:to:)``).
    public static func series(
        book: CustomerBook, from: CalendarDate, to: CalendarDate, every step: ReportingStep,
        settings: ClassificationSettings = .default
    ) -> [CustomerBaseMetrics] {
        let histories = book.histories()
        return step.periods(from: from, to: to).map {
            CustomerBaseMetrics(histories: histories, start: $0.start, end: $0.end, settings: settings)
        }
    }
}
