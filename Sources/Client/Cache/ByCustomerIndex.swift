#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// Calls `body` with every `(customer, activity)` pair in order, reading the file through
    /// a window of a megabyte (compaction).
    func forEachPair(_ body: (Pair) throws -> Void) throws {
        guard let file else { return }
        try LineReader(file: file, chunk: 1 << 20).forEachLine { line in
            guard line.count == Self.lineWidth - 1 else {
                throw IOError(path: file.path, operation: "read a line of", errno: EIO)
            }
            try body((Array(line[0..<36]), Array(line[37..<73])))
            return true
        }
    }

    /// Writes one line, `<customer id> <activity id>\n` (pairs must come sorted).
    static func write(_ pair: Pair, to writer: BufferedWriter) throws(IOError) {
        try writer.write(pair.customer)
        try writer.write(byte: UInt8(ascii: " "))
        try writer.write(pair.activity)
        try writer.write(byte: UInt8(ascii: "\n"))
    }
}
