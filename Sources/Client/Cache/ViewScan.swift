#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Cheap byte-level checks on view lines written by ``RecordView``.
enum ViewScan {
    static let deletedMarker = Array("],\"deleted\":true,\"conflicts\":".utf8)
    static let conflictsMarker = Array(",\"conflicts\":[{".utf8)

    static func isDeleted(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        contains(line, deletedMarker)
    }

    static func hasConflicts(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        contains(line, conflictsMarker)
    }

    /// Whether `needle` occurs in `haystack` (glibc `memmem`).
    static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        // memchr for the first byte, memcmp for the rest (glibc's memmem needs _GNU_SOURCE).
        let first = Int32(needle[0])
        let base = haystack.baseAddress!
        let last = haystack.count - needle.count
        var position = 0
        return needle.withUnsafeBytes { n in
            while position <= last {
                guard let found = memchr(base + position, first, last - position + 1) else { return false }
                let offset = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + offset, n.baseAddress!, n.count) == 0 { return true }
                position = offset + 1
            }
            return false
        }
    }
}
