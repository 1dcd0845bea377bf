extension RecordState {
    /// A stored state's JSON in the expanded form, for a peer that predates the compact one (a
    /// server that does not read it, a client that did not ask for it). Bytes already expanded
    /// are returned as they are, and so are bytes that do not decode — none should, as both
    /// sides store only states they read or wrote; the peer then judges and reports that state
    /// on its own, as it would any state it cannot read.
    public static func expandedJSON(_ bytes: [UInt8]) -> [UInt8] {
        guard startsCompact(bytes), let state = try? RecordState(jsonBytes: bytes, values: .stored) else { return bytes }
        return state.jsonBytes(.expanded)
    }

    /// How every compact state starts, as cx writes it and as PostgreSQL's `jsonb` prints it
    /// (`v` is the shortest key, so `jsonb` puts it first).
    private static let compactPrefixes = [Array(#"{"v":2,"#.utf8), Array(#"{"v": 2, "#.utf8)]
    private static func startsCompact(_ bytes: [UInt8]) -> Bool { compactPrefixes.contains { bytes.starts(with: $0) } }
}
