/// The record id at the start of a state line of a snapshot table, read without decoding the
/// state: cx writes `{"v":2,"id":"<36 bytes>"…` (compact) and wrote `{"id":"<36 bytes>"…`
/// (expanded) before it; generations of both kinds are read.
enum StateLineID {
    private static let compactPrefix = Array(#"{"v":2,"id":""#.utf8)
    private static let expandedPrefix = Array(#"{"id":""#.utf8)

    /// The id's bytes, or `nil` when the line starts otherwise (the caller then decodes it).
    static func range(in line: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        for prefix in [compactPrefix, expandedPrefix] where line.count > prefix.count + 36 && line.starts(with: prefix) {
            return prefix.count..<(prefix.count + 36)
        }
        return nil
    }
}
