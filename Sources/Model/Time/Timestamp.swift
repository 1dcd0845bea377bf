import CXCivilCalendar

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A wall-clock instant with millisecond precision, written as `2026-11-20T10:02:03.120Z`.
///
/// Used only as a display hint (which concurrent value to show first, and when a value was
/// written); never for causality, which version vectors decide.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public let millisecondsSinceEpoch: Int64

    /// Creates a timestamp from milliseconds since the Unix epoch.
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// The current time of this machine's clock.
    public static func now() -> Timestamp {
        Timestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// Parses the canonical form `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, exactly three fraction
    /// digits); `nil` for anything else, so a parsed timestamp re-encodes to the same bytes.
    public init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Timestamp(utf8: $0) }) else { return nil }
        self = parsed
    }

    private init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count == 24, bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"),
            bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "."), bytes[23] == UInt8(ascii: "Z"),
            bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = CivilCalendar.digits(bytes, 0, 4), let month = CivilCalendar.digits(bytes, 5, 2),
            let day = CivilCalendar.digits(bytes, 8, 2), let date = CalendarDate(year: year, month: month, day: day),
            let hour = CivilCalendar.digits(bytes, 11, 2), hour < 24,
            let minute = CivilCalendar.digits(bytes, 14, 2), minute < 60,
            let second = CivilCalendar.digits(bytes, 17, 2), second < 60,
            let millis = CivilCalendar.digits(bytes, 20, 3)
        else { return nil }
        let seconds = Int64(date.dayNumber) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        millisecondsSinceEpoch = seconds * 1000 + Int64(millis)
    }

    /// Milliseconds since the epoch that the text form can write: years 0001 to 9999.
    static let writableRange: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// The canonical form `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public var description: String {
        let ms = millisecondsSinceEpoch
        let millisOfDay = Int(((ms % 86_400_000) + 86_400_000) % 86_400_000)
        let date = CalendarDate(self)
        let hour = millisOfDay / 3_600_000, minute = millisOfDay / 60_000 % 60
        let second = millisOfDay / 1000 % 60, millis = millisOfDay % 1000
        return "\(date)T\(CivilCalendar.pad(hour, 2)):\(CivilCalendar.pad(minute, 2)):"
            + "\(CivilCalendar.pad(second, 2)).\(CivilCalendar.pad(millis, 3))Z"
    }
}
