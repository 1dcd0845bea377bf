/// `activities.by-customer.idx`: fixed-width lines `<customer id> <activity id>\n`, sorted, to
/// find a customer's activities by binary search.
final class ByCustomerIndex {
    static let lineWidth = 74
    static let fileName = "activities.by-customer.idx"
    /// One line: a customer id and one of its activities' ids (36 bytes each).
    typealias Pair = (customer: [UInt8], activity: [UInt8])
    let count: Int
    private let file: FileHandle?

    init(directory: String) throws(IOError) {
        file = try FileHandle.openIfExists(directory + "/" + Self.fileName)
        count = try (file?.size() ?? 0) / Self.lineWidth
    }

    func activityIDs(of customerID: String) throws(IOError) -> [String] {
        guard let file, count > 0 else { return [] }
        let key = Array(customerID.utf8)
        var low = try lowerBound(count: count) { (i) throws(IOError) in
            try file.read(36, at: i * Self.lineWidth).lexicographicallyPrecedes(key)
        }
        var result: [String] = []
        while low < count {
            let line = try file.read(Self.lineWidth, at: low * Self.lineWidth)
            guard line.count == Self.lineWidth, Array(line[0..<36]) == key else { break }
            result.append(String(decoding: line[37..<73], as: UTF8.self))
            low += 1
        }
        return result
    }

    /// Every `(customer, activity)` pair (used by compaction).
    func allPairs() throws(IOError) -> [Pair] {
        guard let file else { return [] }
        let bytes = try file.readAll()
        var result: [Pair] = []
        result.reserveCapacity(count)
        for i in 0..<count {
            let base = i * Self.lineWidth
            result.append((Array(bytes[base..<(base + 36)]), Array(bytes[(base + 37)..<(base + 73)])))
        }
        return result
    }

    /// Writes one line, `<customer id> <activity id>\n` (pairs must come sorted).
    static func write(_ pair: Pair, to writer: BufferedWriter) throws(IOError) {
        try writer.write(pair.customer)
        try writer.write(byte: UInt8(ascii: " "))
        try writer.write(pair.activity)
        try writer.write(byte: UInt8(ascii: "\n"))
    }
}
