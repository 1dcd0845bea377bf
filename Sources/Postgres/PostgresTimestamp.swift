import CXCivilCalendar
import Foundation

/// Converts `Date` to and from PostgreSQL's ISO timestamp text (`DateStyle = ISO`, the default).
///
/// Written by hand rather than with `DateFormatter` because formatters are not `Sendable`, are slow
/// to create, and would round to milliseconds while PostgreSQL keeps microseconds.
enum PostgresTimestamp {
    private static let microsPerDay: Int64 = 86_400_000_000

    /// `YYYY-MM-DD HH:MM:SS.ffffff+00` in UTC, rounded to the microsecond.
    static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (days, microsOfDay) = floorDivMod(micros, microsPerDay)
        let (year, month, day) = CivilCalendar.civil(dayNumber: Int(days))
        let seconds = microsOfDay / 1_000_000
        let fraction = microsOfDay % 1_000_000
        let bc = year <= 0
        let shownYear = bc ? 1 - year : year
        func pad(_ value: some BinaryInteger, _ width: Int) -> String { CivilCalendar.pad(Int(value), width) }
        return "\(pad(shownYear, 4))-\(pad(month, 2))-\(pad(day, 2)) "
            + "\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
            + ".\(pad(fraction, 6))+00" + (bc ? " BC" : "")
    }

    /// Parses `timestamp`/`timestamptz` output; a value without an offset is taken as UTC.
    /// `infinity` and `-infinity` map to `Date.distantFuture` and `Date.distantPast`.
    static func parse(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.number(minDigits: 4, maxDigits: 9), scanner.skip("-"),
            let month = scanner.number(minDigits: 2, maxDigits: 2), scanner.skip("-"),
            let day = scanner.number(minDigits: 2, maxDigits: 2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0, micros: Int64 = 0, offset: Int64 = 0
        if scanner.skip(" ") || scanner.skip("T") {
            guard let h = scanner.number(minDigits: 2, maxDigits: 2), scanner.skip(":"),
                let m = scanner.number(minDigits: 2, maxDigits: 2), scanner.skip(":"),
                let s = scanner.number(minDigits: 2, maxDigits: 2),
                h <= 24, m < 60, s <= 60
            else { return nil }
            (hour, minute, second) = (h, m, s)
            if scanner.skip(".") {
                let start = scanner.position
                guard let fraction = scanner.number(minDigits: 1, maxDigits: 6) else { return nil }
                var scale: Int64 = 1
                for _ in 0..<(6 - (scanner.position - start)) { scale *= 10 }
                micros = fraction * scale
            }
            if let sign = scanner.peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                scanner.position += 1
                guard let oh = scanner.number(minDigits: 2, maxDigits: 2) else { return nil }
                var seconds = oh * 3600
                if scanner.skip(":") {
                    guard let om = scanner.number(minDigits: 2, maxDigits: 2) else { return nil }
                    seconds += om * 60
                    if scanner.skip(":") {
                        guard let os = scanner.number(minDigits: 2, maxDigits: 2) else { return nil }
                        seconds += os
                    }
                }
                offset = sign == UInt8(ascii: "-") ? -seconds : seconds
            }
        }
        var civilYear = year
        if scanner.skip(" BC") { civilYear = 1 - year }
        guard scanner.atEnd else { return nil }
        let days = Int64(CivilCalendar.dayNumber(year: Int(civilYear), month: Int(month), day: Int(day)))
        let localMicros = days * microsPerDay + ((hour * 60 + minute) * 60 + second) * 1_000_000 + micros
        let utcMicros = localMicros - offset * 1_000_000
        return Date(timeIntervalSince1970: Double(utcMicros) / 1_000_000)
    }

    private static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b
        let r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    /// A cursor over ASCII bytes.
    private struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { position == bytes.count }

        func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skip(_ literal: String) -> Bool {
            let utf8 = Array(literal.utf8)
            guard bytes.count - position >= utf8.count,
                Array(bytes[position..<(position + utf8.count)]) == utf8
            else { return false }
            position += utf8.count
            return true
        }

        mutating func number(minDigits: Int, maxDigits: Int) -> Int64? {
            var value: Int64 = 0
            var count = 0
            while count < maxDigits, let c = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) {
                value = value * 10 + Int64(c - UInt8(ascii: "0"))
                position += 1
                count += 1
            }
            return count >= minDigits ? value : nil
        }
    }
}
