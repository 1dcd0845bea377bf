/// `activities.by-customer.idx`: fixed-width lines `<customer id> <activity id>\n`, sorted, to
/// find a customer's activities by binary search.
final class ByCustomerIndex {
    static let lineWidth = 74
    static let fileName = "activities.by-customer.idx"
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

    /// Calls `body` with every line in order, without its newline: `<customer id> <activity
    /// id>`, read through a window of a megabyte (compaction). A line of another length is
    /// left out: the index is derived from the activities, and one damaged line must not stop
    /// every later compaction.
    func forEachLine(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        guard let file else { return }
        try LineReader(file: file, chunk: 1 << 20).forEachLine { line in
            if line.count == Self.lineWidth - 1 { try body(line) }
            return true
        }
    }

    /// The activity id's bytes in a line from ``forEachLine(_:)``.
    static func activity(in line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: line[37..<73])
    }

    /// The line of one pair, without its newline. Lines sort as their pairs do: both ids have
    /// 36 bytes, so the space between them never decides an order.
    static func line(customer: String, activity: some Collection<UInt8>) -> [UInt8] {
        var line = Array(customer.utf8)
        line.reserveCapacity(lineWidth)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: activity)
        return line
    }

    /// Writes one line (from ``line(customer:activity:)`` or ``forEachLine(_:)``) and its
    /// newline; lines must come sorted.
    static func write(line: some Collection<UInt8>, to writer: BufferedWriter) throws(IOError) {
        try writer.write(line)
        try writer.write(byte: UInt8(ascii: "\n"))
    }
}
