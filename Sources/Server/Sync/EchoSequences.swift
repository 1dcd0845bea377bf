import CXModel

/// The server's reading of an ``EchoReceipt``: the sequence numbers a push-only request gave
/// the records it left exactly as sent, and the epoch that numbered them. A pull that is handed
/// the receipt leaves out the rows that still carry one of those numbers — any later write gives
/// a row a new number, so what is left out is exactly what the client sent and holds.
///
/// Written `e<first>-<last>,<first>-<last>,….<epoch>`: ranges of consecutive numbers (a push of
/// new records takes its numbers in one go, so a receipt is usually one range).
struct EchoSequences: Sendable, Equatable {
    /// Ascending, disjoint, not adjacent.
    private(set) var ranges: [ClosedRange<Int64>]
    /// The epoch of the database that handed the numbers out (``ServerEpoch``).
    let epoch: String

    /// The ranges covering `numbers` (in any order, duplicates allowed).
    init(numbers: [Int64], epoch: String) {
        var ranges: [ClosedRange<Int64>] = []
        for number in numbers.sorted() {
            if let last = ranges.last, number <= last.upperBound + 1 {
                ranges[ranges.count - 1] = last.lowerBound...Swift.max(last.upperBound, number)
            } else {
                ranges.append(number...number)
            }
        }
        self.ranges = ranges
        self.epoch = epoch
    }

    /// How many numbers the ranges hold.
    var count: Int64 { count(after: 0) }

    /// How many numbers above `sequence` the ranges hold.
    func count(after sequence: Int64) -> Int64 {
        ranges.reduce(0) { $0 + ($1.upperBound > sequence ? $1.upperBound - Swift.max($1.lowerBound, sequence + 1) + 1 : 0) }
    }

    /// `cursor` moved past every number of `receipts` that follows it without a gap: all rows
    /// numbered there are echoes, and numbers no row carries any more were re-numbered higher
    /// (cursor safety holds: the numbers were committed before the receipt was issued).
    static func skipping(_ receipts: [EchoSequences], after cursor: Int64) -> Int64 {
        var cursor = cursor
        for range in receipts.flatMap(\.ranges).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if range.lowerBound > cursor + 1 { break }
            cursor = Swift.max(cursor, range.upperBound)
        }
        return cursor
    }

    /// The receipt a client hands back.
    var receipt: EchoReceipt {
        let text = ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
        return EchoReceipt(rawValue: "e" + text.joined(separator: ",") + "." + epoch)
    }

    /// Reads a receipt this server issued; `nil` for anything else (a receipt is a hint the
    /// server gave: one it cannot use is left aside, and the page then holds those states).
    init?(parsing receipt: EchoReceipt) {
        let text = receipt.rawValue
        guard text.hasPrefix("e"), let dot = text.lastIndex(of: ".") else { return nil }
        let epoch = String(text[text.index(after: dot)...])
        guard epoch.utf8.count == 12, epoch.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        var ranges: [ClosedRange<Int64>] = []
        for part in text[text.index(after: text.startIndex)..<dot].split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { Self.number($0) }
            guard let lower = bounds.first ?? nil, let upper = bounds.count == 2 ? bounds[1] : lower, lower <= upper,
                ranges.last.map({ $0.upperBound + 1 < lower }) ?? true
            else { return nil }
            ranges.append(lower...upper)
        }
        guard !ranges.isEmpty else { return nil }
        self.ranges = ranges
        self.epoch = epoch
    }

    /// A sequence number: 1–18 digits, no sign, no leading zero.
    private static func number(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            text.first != "0" || text.utf8.count == 1
        else { return nil }
        return Int64(text)
    }

    /// `ranges` of several receipts as one PostgreSQL `int8multirange` literal (`{}` for none).
    static func multirange(_ receipts: [EchoSequences]) -> String {
        "{" + receipts.flatMap(\.ranges).map { "[\($0.lowerBound),\($0.upperBound + 1))" }.joined(separator: ",") + "}"
    }
}
