import CXCivilCalendar

/// A calendar date (`YYYY-MM-DD`) with no time of day and no time zone.
///
/// Purchases, payments and due dates are calendar dates: a purchase made on 2026-03-01 is on
/// 2026-03-01 wherever the laptop is.
public struct CalendarDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public let dayNumber: Int

    /// Creates a date from its day number (days since 1970-01-01).
    public init(dayNumber: Int) {
        self.dayNumber = dayNumber
    }

    /// Creates a date from year, month and day; `nil` when no such date exists.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...CivilCalendar.daysInMonth(year: year, month: month)).contains(day)
        else { return nil }
        dayNumber = CivilCalendar.dayNumber(year: year, month: month, day: day)
    }

    /// Parses the strict form `YYYY-MM-DD`; `nil` for anything else or an impossible date.
    public init?(_ text: String) {
        // Reads the string's own bytes: no array per date (a report parses millions).
        guard let date = text.utf8.withContiguousStorageIfAvailable(Self.parse) ?? Self.parse(Array(text.utf8)) else { return nil }
        self = date
    }

    /// Parses UTF-8 bytes by the same rules as ``init(_:)``.
    public init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard let date = Self.parse(bytes) else { return nil }
        self = date
    }

    private static func parse(_ bytes: some RandomAccessCollection<UInt8>) -> CalendarDate? {
        guard bytes.count == 10 else { return nil }
        let start = bytes.startIndex
        guard bytes[bytes.index(start, offsetBy: 4)] == UInt8(ascii: "-"), bytes[bytes.index(start, offsetBy: 7)] == UInt8(ascii: "-"),
            let year = CivilCalendar.digits(bytes, 0, 4),
            let month = CivilCalendar.digits(bytes, 5, 2),
            let day = CivilCalendar.digits(bytes, 8, 2)
        else { return nil }
        return CalendarDate(year: year, month: month, day: day)
    }

    /// The year, month and day.
    public var components: (year: Int, month: Int, day: Int) {
        CivilCalendar.civil(dayNumber: dayNumber)
    }

    /// The date `days` later (earlier when negative).
    public func adding(days: Int) -> CalendarDate {
        CalendarDate(dayNumber: dayNumber + days)
    }

    /// The date `months` calendar months later (earlier when negative), its day clamped to
    /// the month's last day: 2025-01-31 plus one month is 2025-02-28, as PostgreSQL's
    /// `date + interval '1 month'` has it.
    public func adding(months: Int) -> CalendarDate {
        let (year, month, day) = components
        let index = year * 12 + (month - 1) + months
        let (newYear, newMonth) = (index >= 0 ? index / 12 : (index - 11) / 12, ((index % 12) + 12) % 12 + 1)
        let newDay = min(day, CivilCalendar.daysInMonth(year: newYear, month: newMonth))
        return CalendarDate(dayNumber: CivilCalendar.dayNumber(year: newYear, month: newMonth, day: newDay))
    }

    /// The number of days from `self` to `other`.
    public func days(until other: CalendarDate) -> Int {
        other.dayNumber - dayNumber
    }

    /// The date part (UTC) of a timestamp.
    public init(_ timestamp: Timestamp) {
        let ms = timestamp.millisecondsSinceEpoch
        dayNumber = Int(ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000)
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        lhs.dayNumber < rhs.dayNumber
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        let (y, m, d) = components
        return "\(CivilCalendar.pad(y, 4))-\(CivilCalendar.pad(m, 2))-\(CivilCalendar.pad(d, 2))"
    }
}
