/// `book.bin`: a whole cache generation's ``InsightFacts`` in the form a ``CustomerBook`` is
/// built from — numbers as numbers, each activity pointing at its customer by position — so a
/// report reads one file and parses nothing (docs/cache-format.md). Derived data: a reader
/// that finds it missing or unreadable builds the book from the facts files instead.
///
/// Layout (little-endian):
/// ```
/// header     "CXBOOK1\n", u32 version (1), u32 customers, u32 activities, u32 string bytes, u64 0
/// customers  per customer, in table (id) order, 24 bytes:
///            u32 id, name, territory, owner, segment (string refs), u8 deleted, 3 bytes 0
/// activities per activity, in table (id) order, 40 bytes:
///            i32 customer position (-1: not in the customer table), u32 customer id (string ref,
///            when the position is -1), u8 use (0 none, 1 purchase, 2 referral, 3 rating),
///            u8 has margin, u8 has paid date, i8 NPS score, i32 on, i32 due on, i32 paid on
///            (day numbers), i64 amount (cents), i64 margin (ten-thousandths)
/// strings    u32 length + UTF-8 bytes each; a ref is the offset of its length, 0xFFFFFFFF: none
/// ```
/// An activity is stored as what ``CustomerBook/add(_:)-(InsightFacts)`` makes of it (deleted,
/// incomplete or unreadable ones as "none"), so reading needs no rules of its own.
public enum BookFile {
    static let magic: [UInt8] = Array("CXBOOK1\n".utf8)
    static let version: UInt32 = 1
    static let headerSize = 32
    static let customerSize = 24
    static let activitySize = 40
    static let noString = UInt32.max

    /// What an activity adds to a book.
    enum Use: UInt8 {
        case none = 0, purchase, referral, rating
    }

    /// Why a `book.bin` cannot be read (the caller then reads the facts files).
    public struct Unreadable: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Builds a `book.bin` from a generation's facts: every customer first, then every
    /// activity, each table in its (id) order — the positions readers skip by.
    public struct Writer {
        private var strings: [UInt8] = []
        /// Refs of values that repeat (territories, owners, segments, customer ids of activities).
        private var sharedRefs: [String: UInt32] = [:]
        private var customerRecords: [UInt8] = []
        private var activityRecords: [UInt8] = []
        private var positionOfCustomer: [String: Int32] = [:]
        private var customerCount = 0
        private var activityCount = 0
        private var plain = PlainFactsLine()
        /// Whether every record was stored as it is: `false` when a value does not fit the
        /// layout (an NPS score or a date out of range); such a file must not be written.
        public private(set) var isFaithful = true

        public init() {}

        /// Adds the next record of the customer table or, after the last customer, of the
        /// activity table.
        public mutating func add(_ facts: InsightFacts) {
            switch facts.kind {
            case .customer: addCustomer(facts)
            case .activity: addActivity(facts)
            }
        }

        /// Adds the record of one facts line (``InsightFacts/jsonBytes()``).
        public mutating func add(factsLine bytes: UnsafeBufferPointer<UInt8>) throws(JSONScanner.Failure) {
            guard plain.read(bytes) else { return add(try InsightFacts(jsonBytes: bytes)) }
            let text = { (range: Range<Int>) in String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
            add(InsightFacts(id: text(plain.id), kind: plain.kind, isDeleted: plain.isDeleted, values: plain.values.map { $0.map(text) }))
        }

        private mutating func addCustomer(_ facts: InsightFacts) {
            precondition(activityCount == 0, "book.bin holds every customer before the first activity")
            positionOfCustomer[facts.id] = Int32(customerCount)
            customerCount += 1
            let values = facts.values
            append(ref(facts.id), to: &customerRecords)
            if facts.isDeleted {
                for _ in 0..<4 { append(BookFile.noString, to: &customerRecords) }
            } else {
                // InsightFacts.customerFields: name, territory, owner, segment.
                append(ref(values[0] ?? ""), to: &customerRecords)
                for value in values[1...3] { append(value.map { sharedRef($0) } ?? BookFile.noString, to: &customerRecords) }
            }
            customerRecords.append(facts.isDeleted ? 1 : 0)
            customerRecords.append(contentsOf: [0, 0, 0])
        }

        private mutating func addActivity(_ facts: InsightFacts) {
            activityCount += 1
            var position: Int32 = -1, customerRef = BookFile.noString
            var use = Use.none, hasMargin: UInt8 = 0, hasPaid: UInt8 = 0, score: Int8 = 0
            var on: Int32 = 0, due: Int32 = 0, paid: Int32 = 0, cents: Int64 = 0, margin: Int64 = 0
            // The rules of CustomerBook.add(_: InsightFacts), applied once here.
            let values = facts.values
            if !facts.isDeleted, let customerID = values[0], let date = values[2].flatMap(CalendarDate.init) {
                on = day(date)
                switch values[1] {
                case "purchase":
                    if let amount = values[3].flatMap(Money.init) {
                        use = .purchase
                        cents = amount.cents
                        due = day(values[5].flatMap(CalendarDate.init) ?? date.adding(days: 30))
                        if let value = values[4].flatMap(DecimalText.init) {
                            hasMargin = 1
                            margin = value.tenThousandths
                        }
                        if let day = values[6].flatMap(CalendarDate.init) {
                            hasPaid = 1
                            paid = self.day(day)
                        }
                    }
                case "referral":
                    use = .referral
                case "touchpoint":
                    if let value = values[7].flatMap({ Int($0) }) {
                        use = .rating
                        if let small = Int8(exactly: value) { score = small } else { isFaithful = false }
                    }
                default:
                    break
                }
                if use != .none {
                    if let known = positionOfCustomer[customerID] { position = known } else { customerRef = sharedRef(customerID) }
                }
            }
            append(UInt32(bitPattern: position), to: &activityRecords)
            append(customerRef, to: &activityRecords)
            activityRecords.append(contentsOf: [use.rawValue, hasMargin, hasPaid, UInt8(bitPattern: score)])
            for day in [on, due, paid] { append(UInt32(bitPattern: day), to: &activityRecords) }
            append(UInt64(bitPattern: cents), to: &activityRecords)
            append(UInt64(bitPattern: margin), to: &activityRecords)
        }

        /// The file's bytes.
        public func bytes() -> [UInt8] {
            parts().reduce(into: []) { $0 += $1 }
        }

        /// The file's bytes in the order they are written — header, customers, activities,
        /// strings — without joining them (a large book is written without a copy of itself).
        public func parts() -> [[UInt8]] {
            var header = BookFile.magic
            for value in [BookFile.version, UInt32(customerCount), UInt32(activityCount), UInt32(strings.count)] {
                append(value, to: &header)
            }
            append(UInt64(0), to: &header)
            return [header, customerRecords, activityRecords, strings]
        }

        private mutating func day(_ date: CalendarDate) -> Int32 {
            guard let day = Int32(exactly: date.dayNumber) else {
                isFaithful = false
                return 0
            }
            return day
        }

        private mutating func ref(_ text: String) -> UInt32 {
            let offset = UInt32(strings.count)
            var text = text
            text.withUTF8 { bytes in
                append(UInt32(bytes.count), to: &strings)
                strings.append(contentsOf: bytes)
            }
            return offset
        }

        private mutating func sharedRef(_ text: String) -> UInt32 {
            if let known = sharedRefs[text] { return known }
            let made = ref(text)
            sharedRefs[text] = made
            return made
        }

        private func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
    }
}
