/// Where the parts of a plain facts line are: `["id","kind",false|true,"v"|null,…]` with no
/// whitespace and no escape in any string — the form ``InsightFacts/jsonBytes()`` writes for
/// everything but text that needs escaping. Anything else is left to the general parser
/// (``InsightFacts/init(jsonBytes:)``), which reads escapes and refuses what is not a facts line.
struct PlainFactsLine {
    /// The record id, inside the quotes.
    var id: Range<Int> = 0..<0
    /// The record kind.
    var kind = RecordKind.customer
    /// Whether the record is deleted.
    var isDeleted = false
    /// The values' byte ranges (inside the quotes) in the order of ``InsightFacts/fields(of:)``,
    /// `nil` for `null`. Reused from line to line: a report reads hundreds of thousands.
    var values: [Range<Int>?] = []

    /// Reads `line`; `false` when it is not plain (the other properties are then meaningless).
    mutating func read(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let end = line.count
        /// Reads `"…"` at `i`: the range inside the quotes, `nil` when not a plain string.
        func string() -> Range<Int>? {
            guard i < end, line[i] == UInt8(ascii: "\"") else { return nil }
            let start = i + 1
            var j = start, ascii = true
            while j < end {
                let byte = line[j]
                if byte == UInt8(ascii: "\"") { break }
                // Escapes and control characters (refused by JSON) go to the general parser.
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                if byte >= 0x80 { ascii = false }
                j += 1
            }
            guard j < end else { return nil }
            // Ill-formed UTF-8 is refused by the general parser, with the reason.
            guard ascii || UTF8Validation.isValid(UnsafeBufferPointer(rebasing: line[start..<j])) else { return nil }
            i = j + 1
            return start..<j
        }
        func literal(_ word: StaticString) -> Bool {
            guard Self.bytes(line, at: i, equal: word) else { return false }
            i += word.utf8CodeUnitCount
            return true
        }
        guard literal("["), let id = string(), literal(","), let kindRange = string(), literal(",") else { return false }
        if Self.bytes(line, kindRange, equal: "customer") { kind = .customer }
        else if Self.bytes(line, kindRange, equal: "activity") { kind = .activity }
        else { return false }
        if literal("false") { isDeleted = false } else if literal("true") { isDeleted = true } else { return false }
        values.removeAll(keepingCapacity: true)
        for _ in 0..<InsightFacts.fields(of: kind).count {
            guard literal(",") else { return false }
            if literal("null") {
                values.append(nil)
            } else {
                guard let value = string() else { return false }
                values.append(value)
            }
        }
        guard literal("]"), i == end else { return false }
        self.id = id
        return true
    }

    /// Whether `line[range]` is exactly `word`.
    static func bytes(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, equal word: StaticString) -> Bool {
        range.count == word.utf8CodeUnitCount && bytes(line, at: range.lowerBound, equal: word)
    }

    /// Whether `word` is at `offset` in `line`.
    private static func bytes(_ line: UnsafeBufferPointer<UInt8>, at offset: Int, equal word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard line.count - offset >= count else { return false }
        let start = word.utf8Start
        for k in 0..<count where line[offset + k] != start[k] { return false }
        return true
    }
}
