/// A strict, allocation-light JSON reader over UTF-8 bytes, used to read record states and
/// sync envelopes without building an intermediate tree.
///
/// It reads exactly what it is asked for (`string()`, `integer()`, `object { key in … }`) and
/// reports the byte offset of anything unexpected. It is strict where RFC 8259 is: strings must
/// be valid UTF-8 (nothing is silently replaced), numbers follow the JSON grammar (no leading
/// zeros, no bare `-`, no `1.`), and no object may hold the same key twice — a duplicate is
/// refused rather than resolved, so two `changes` arrays can never both be applied. Foundation's `JSONDecoder` reads the same
/// states about 20× slower, which would dominate sync time.
public struct JSONScanner {
    /// A syntax or type error at a byte offset.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// Byte offset of the problem.
        public let offset: Int
        /// What was expected or found.
        public let message: String
        public var description: String { "\(message) at byte \(offset)" }
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    /// The current byte offset.
    public private(set) var offset = 0
    private var depth = 0
    private static let maximumDepth = 64

    /// Creates a scanner over `bytes`, which must outlive it.
    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Runs `body` with a scanner over `bytes`.
    public static func scan<T, C: Collection<UInt8>>(
        _ bytes: C, _ body: (inout JSONScanner) throws(Failure) -> T
    ) throws(Failure) -> T {
        let result: Result<T, Failure>? = bytes.withContiguousStorageIfAvailable { buffer in
            var scanner = JSONScanner(buffer)
            return Result { () throws(Failure) -> T in try body(&scanner) }
        }
        if let result { return try result.get() }
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            return Result { () throws(Failure) -> T in try body(&scanner) }
        }.get()
    }

    /// A failure at the current offset.
    public func failure(_ message: String) -> Failure {
        Failure(offset: offset, message: message)
    }

    mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    /// The next significant byte, without consuming it; `nil` at the end.
    public mutating func peek() -> UInt8? {
        skipWhitespace()
        return offset < bytes.count ? bytes[offset] : nil
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(Failure) {
        guard peek() == byte else {
            throw failure(offset < bytes.count ? "expected \(what)" : "unexpected end of JSON, expected \(what)")
        }
        offset += 1
    }

    /// Requires that nothing but whitespace remains.
    public mutating func expectEnd() throws(Failure) {
        if peek() != nil { throw failure("unexpected data after the JSON value") }
    }

    /// Whether the next value is `null`; consumes it if so.
    public mutating func consumeNull() throws(Failure) -> Bool {
        guard peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard offset + count <= bytes.count,
            word.withUTF8Buffer({ memcmp_equal($0, bytes, offset) })
        else { throw failure("invalid literal") }
        offset += count
    }

    /// Reads `true` or `false`.
    public mutating func bool() throws(Failure) -> Bool {
        switch peek() {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        default: throw failure("expected true or false")
        }
    }

    /// Reads an integer that fits in 64 bits.
    ///
    /// JSON has one number type, and JSON Schema's `integer` is any number with no fractional
    /// part, so `42`, `42.0`, `4.2e1` and `420e-1` all read as 42; `4.5` is refused.
    public mutating func integer() throws(Failure) -> Int64 {
        guard let first = peek() else { throw failure("unexpected end of JSON, expected an integer") }
        var negative = false
        if first == UInt8(ascii: "-") {
            negative = true
            offset += 1
        }
        let start = offset
        if offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "0"), bytes[offset + 1] >= 0x30, bytes[offset + 1] <= 0x39 {
            throw failure("numbers cannot have leading zeros")
        }
        var value: Int64 = 0
        while offset < bytes.count, bytes[offset] >= 0x30, bytes[offset] <= 0x39 {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(bytes[offset] - 0x30))
            guard !overflow1, !overflow2 else { throw failure("integer out of range") }
            value = sum
            offset += 1
        }
        guard offset > start else { throw failure("expected an integer") }
        if offset < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[offset]) {
            offset = start
            value = try integralNumber()
        }
        return negative ? -value : value
    }

    /// Reads the digits, fraction and exponent of a non-negative number at `offset` and returns
    /// it if it is a whole number that fits in 64 bits.
    private mutating func integralNumber() throws(Failure) -> Int64 {
        let numberStart = offset
        func isDigit(_ index: Int) -> Bool { index < bytes.count && bytes[index] >= 0x30 && bytes[index] <= 0x39 }
        var digits: [UInt8] = []
        while isDigit(offset) { digits.append(bytes[offset] - 0x30); offset += 1 }
        var exponent = 0
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard isDigit(offset) else { throw failure("expected a digit in number") }
            while isDigit(offset) { digits.append(bytes[offset] - 0x30); exponent -= 1; offset += 1 }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            offset += 1
            var exponentNegative = false
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") {
                exponentNegative = bytes[offset] == UInt8(ascii: "-")
                offset += 1
            }
            guard isDigit(offset) else { throw failure("expected a digit in number") }
            var written = 0
            while isDigit(offset) {
                // Beyond 10^6 the number is 0, huge or fractional whatever the digits; saturate.
                written = Swift.min(written * 10 + Int(bytes[offset] - 0x30), 1_000_000)
                offset += 1
            }
            exponent += exponentNegative ? -written : written
        }
        guard let firstNonZero = digits.firstIndex(where: { $0 != 0 }) else { return 0 }
        digits = Array(digits[firstNonZero...])
        while exponent < 0, digits.last == 0 {
            digits.removeLast()
            exponent += 1
        }
        guard exponent >= 0 else {
            throw Failure(offset: numberStart, message: "expected an integer, found a fractional number")
        }
        guard digits.count + exponent <= 19 else { throw Failure(offset: numberStart, message: "integer out of range") }
        var value: Int64 = 0
        for digit in digits + [UInt8](repeating: 0, count: exponent) {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { throw Failure(offset: numberStart, message: "integer out of range") }
            value = sum
        }
        return value
    }

    /// Reads a string, decoding escapes (including surrogate pairs).
    public mutating func string() throws(Failure) -> String {
        switch try skipString() {
        case .raw(let range): String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        case .decoded(let text): text
        }
    }

    /// A string skipped by ``skipString()``: the range of its bytes when it has no escape (so
    /// they are its UTF-8), or its text when it had to be decoded.
    private enum SkippedString {
        case raw(Range<Int>)
        case decoded(String)
    }

    /// Reads past a string with every check of JSON's grammar and UTF-8, building it only when
    /// it has an escape (skipping strings is most of reading a sync request's envelope).
    private mutating func skipString() throws(Failure) -> SkippedString {
        try expect(UInt8(ascii: "\""), "a string")
        let start = offset
        var ascii = true
        // Fast path: no escapes.
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                guard ascii || UTF8Validation.isValid(UnsafeBufferPointer(rebasing: bytes[start..<offset])) else {
                    throw Failure(offset: start, message: "string is not valid UTF-8")
                }
                offset += 1
                return .raw(start..<offset - 1)
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw failure("control character in string") }
            if byte >= 0x80 { ascii = false }
            offset += 1
        }
        return .decoded(try decodeEscapedRest(from: start))
    }

    /// Decodes the rest of a string whose bytes from `start` up to the current offset had no
    /// escape, up to and past its closing quote.
    private mutating func decodeEscapedRest(from start: Int) throws(Failure) -> String {
        var scalars = Array(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard scalars.withUnsafeBufferPointer({ UTF8Validation.isValid($0) }) else {
                    throw Failure(offset: start, message: "string is not valid UTF-8")
                }
                return String(decoding: scalars, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard offset < bytes.count else { break }
                let escape = bytes[offset]
                offset += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code) {
                        guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u")
                        else { throw failure("unpaired surrogate in string") }
                        offset += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw failure("invalid surrogate pair in string") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(code) {
                        throw failure("unpaired surrogate in string")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw failure("invalid unicode escape") }
                    scalars.append(contentsOf: UTF8.encode(scalar)!)
                default:
                    throw failure("invalid escape in string")
                }
            default:
                guard byte >= 0x20 else { throw failure("control character in string") }
                scalars.append(byte)
            }
        }
        throw failure("unterminated string")
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw failure("truncated unicode escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: throw failure("invalid unicode escape")
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }

    /// Reads an object, calling `body` with each key; `body` must read the key's value.
    ///
    /// A key that appears twice in the object (byte for byte) is refused.
    public mutating func object(_ body: (inout JSONScanner, String) throws(Failure) -> Void) throws(Failure) {
        var keys = KeySet()
        try members { scanner throws(Failure) in
            let keyOffset = scanner.peekOffset()
            let key = try scanner.string()
            guard keys.insert(key) else {
                throw Failure(offset: keyOffset, message: "duplicate key '\(key.prefix(100))' in object")
            }
            try scanner.expect(UInt8(ascii: ":"), "':'")
            try body(&scanner, key)
        }
    }

    /// The grammar of an object around its members: `{`, members separated by `,`, `}`, within
    /// the nesting limit; `member` reads one key, its `:` and its value.
    private mutating func members(_ member: (inout JSONScanner) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "{"), "an object")
        depth += 1
        guard depth <= Self.maximumDepth else { throw failure("JSON nested too deeply") }
        if peek() == UInt8(ascii: "}") {
            offset += 1
            depth -= 1
            return
        }
        while true {
            try member(&self)
            switch peek() {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                depth -= 1
                return
            default: throw failure("expected ',' or '}' in object")
            }
        }
    }

    /// Reads an array, calling `body` for each element; `body` must read the element.
    public mutating func array(_ body: (inout JSONScanner) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "["), "an array")
        depth += 1
        guard depth <= Self.maximumDepth else { throw failure("JSON nested too deeply") }
        if peek() == UInt8(ascii: "]") {
            offset += 1
            depth -= 1
            return
        }
        while true {
            try body(&self)
            switch peek() {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"):
                offset += 1
                depth -= 1
                return
            default: throw failure("expected ',' or ']' in array")
            }
        }
    }

    /// Skips any value (used for error recovery and to measure a value's extent).
    public mutating func skipValue() throws(Failure) {
        switch peek() {
        case UInt8(ascii: "{"): try skipObject()
        case UInt8(ascii: "["): try array { scanner throws(Failure) in try scanner.skipValue() }
        case UInt8(ascii: "\""): _ = try skipString() as SkippedString
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"): try literal("null")
        case .some(let byte) where byte == UInt8(ascii: "-") || (byte >= 0x30 && byte <= 0x39):
            try skipNumber()
        default: throw failure(offset < bytes.count ? "unexpected character" : "unexpected end of JSON")
        }
    }

    /// Skips an object as ``object(_:)`` with ``skipValue()`` for each value would — the same
    /// checks, duplicate keys included — comparing keys as bytes in place while they have no
    /// escape and are few, and as ``object(_:)`` does from the first that has one or past 16.
    private mutating func skipObject() throws(Failure) {
        var inPlace: [Range<Int>] = []
        var decoded: KeySet?
        try members { scanner throws(Failure) in
            let keyOffset = scanner.peekOffset()
            let skipped = try scanner.skipString()
            if decoded == nil, case .raw(let key) = skipped, inPlace.count < 16 {
                let keyBytes = UnsafeBufferPointer(rebasing: scanner.bytes[key])
                for other in inPlace where other.count == key.count && UnsafeBufferPointer(rebasing: scanner.bytes[other]).elementsEqual(keyBytes) {
                    throw Failure(offset: keyOffset, message: "duplicate key '\(String(decoding: keyBytes, as: UTF8.self).prefix(100))' in object")
                }
                inPlace.append(key)
            } else {
                if decoded == nil {
                    var keys = KeySet()
                    for key in inPlace { _ = keys.insert(String(decoding: UnsafeBufferPointer(rebasing: scanner.bytes[key]), as: UTF8.self)) }
                    decoded = keys
                }
                let key: String
                switch skipped {
                case .raw(let range): key = String(decoding: UnsafeBufferPointer(rebasing: scanner.bytes[range]), as: UTF8.self)
                case .decoded(let text): key = text
                }
                guard decoded!.insert(key) else {
                    throw Failure(offset: keyOffset, message: "duplicate key '\(key.prefix(100))' in object")
                }
            }
            try scanner.expect(UInt8(ascii: ":"), "':'")
            try scanner.skipValue()
        }
    }

    /// Skips a number, checking the JSON grammar:
    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func skipNumber() throws(Failure) {
        func isDigit(_ index: Int) -> Bool { index < bytes.count && bytes[index] >= 0x30 && bytes[index] <= 0x39 }
        func digits() throws(Failure) {
            guard isDigit(offset) else { throw failure("expected a digit in number") }
            while isDigit(offset) { offset += 1 }
        }
        if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "0") {
            offset += 1
            if isDigit(offset) { throw failure("numbers cannot have leading zeros") }
        } else {
            try digits()
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            try digits()
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            try digits()
        }
    }

    /// The offset of the next significant byte.
    private mutating func peekOffset() -> Int {
        skipWhitespace()
        return offset
    }

    /// Checks the syntax of the next value, skips it, and returns a scanner over exactly that
    /// value, so a reader can judge it on its own (and fail) without losing its place here.
    /// The returned scanner reads the same memory and must not outlive this one.
    public mutating func valueScanner() throws(Failure) -> JSONScanner {
        skipWhitespace()
        let start = offset
        try skipValue()
        return JSONScanner(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
    }

    /// Steps over the next value and returns a scanner over exactly it, like ``valueScanner()``,
    /// but an object or array is stepped over by its brackets alone: strings are skipped with
    /// their escapes and nothing else is checked (grammar, UTF-8, duplicate keys, nesting). For
    /// splitting a document into parts that are each read in full afterwards — reading a part
    /// checks it — at a fraction of the cost of checking every part twice. A part that then
    /// fails to read must be checked with ``valueScanner()`` before the failure is trusted: its
    /// syntax may be what is wrong. Other values are checked as ``valueScanner()`` does.
    public mutating func bracketedValueScanner() throws(Failure) -> JSONScanner {
        skipWhitespace()
        let start = offset
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "{") || bytes[offset] == UInt8(ascii: "[") else {
            return try valueScanner()
        }
        var open = 0
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                open += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                open -= 1
                if open == 0 { return JSONScanner(UnsafeBufferPointer(rebasing: bytes[start..<offset])) }
            case UInt8(ascii: "\""):
                while offset < bytes.count {
                    let inString = bytes[offset]
                    offset += inString == UInt8(ascii: "\\") ? 2 : 1
                    if inString == UInt8(ascii: "\"") { break }
                }
            default:
                break
            }
        }
        offset = Swift.min(offset, bytes.count)
        throw failure("unexpected end of JSON")
    }

    /// Every byte this scanner reads (for a scanner over one value, that value's JSON).
    public var scannedBytes: [UInt8] { Array(bytes) }

    /// The string value of `key` in the object this scanner starts with, or `nil` if it is not an
    /// object, has no such key, or the value is not a string. Used to name a value that failed
    /// to read.
    public mutating func topLevelString(_ key: String) -> String? {
        var found: String?
        do throws(Failure) {
            try object { scanner, name throws(Failure) in
                if name == key, scanner.peek() == UInt8(ascii: "\""), found == nil {
                    found = try scanner.string()
                } else {
                    try scanner.skipValue()
                }
            }
        } catch {
            return found
        }
        return found
    }

    /// Reads one value and returns its raw bytes (for passing a nested document on untouched).
    public mutating func rawValue() throws(Failure) -> [UInt8] {
        skipWhitespace()
        let start = offset
        try skipValue()
        return Array(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
    }
}

/// The keys seen in one object: a short list compared byte for byte (objects here have a handful
/// of keys), switching to a hash set for large objects so a document with many keys stays linear.
private struct KeySet {
    private var small: [String] = []
    private var large: Set<[UInt8]>?

    /// Adds `key`; false when the object already had it.
    mutating func insert(_ key: String) -> Bool {
        if large != nil { return large!.insert(Array(key.utf8)).inserted }
        let count = key.utf8.count
        for existing in small where existing.utf8.count == count && Self.sameBytes(existing, key) { return false }
        small.append(key)
        if small.count > 16 {
            large = Set(small.map { Array($0.utf8) })
            small = []
        }
        return true
    }

    /// Whether `a` and `b` have the same UTF-8 bytes (not `==`, which compares canonical
    /// equivalence: JSON keys are equal only byte for byte).
    private static func sameBytes(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { left in b.withUTF8 { right in left.elementsEqual(right) } }
    }
}

private func memcmp_equal(_ word: UnsafeBufferPointer<UInt8>, _ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Bool {
    for index in 0..<word.count where bytes[offset + index] != word[index] { return false }
    return true
}
