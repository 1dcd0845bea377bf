import CXModel

/// The small `meta.json` of a generation.
struct SnapshotMeta {
    var generation = 0
    var customers = 0
    var activities = 0
    var cursor: String?
    var lastSync: String?
    /// The user's scope as last seen by a sync (absent in caches written before scopes).
    var scope: SyncScope?
    /// Whether a rescope is under way (see ``SyncEngine``).
    var rescoping = false
    /// The replica incarnation the cache writes as (absent in caches written before them).
    var replica: ReplicaIncarnation?

    static func load(_ path: String) throws -> SnapshotMeta {
        guard let bytes = try POSIX.readFile(path) else { return SnapshotMeta() }
        var meta = SnapshotMeta()
        do {
            try JSONScanner.scan(bytes) { scanner throws(JSONScanner.Failure) in
                try scanner.object { scanner, key throws(JSONScanner.Failure) in
                    switch key {
                    case "generation": meta.generation = Int(try scanner.integer())
                    case "customers": meta.customers = Int(try scanner.integer())
                    case "activities": meta.activities = Int(try scanner.integer())
                    case "cursor": meta.cursor = try scanner.consumeNull() ? nil : scanner.string()
                    case "last_sync": meta.lastSync = try scanner.consumeNull() ? nil : scanner.string()
                    case "scope": meta.scope = try scanner.consumeNull() ? nil : SyncScope(reading: &scanner)
                    case "rescoping": meta.rescoping = try scanner.bool()
                    case "replica": meta.replica = try scanner.consumeNull() ? nil : ReplicaIncarnation.read(&scanner)
                    default: try scanner.skipValue()
                    }
                }
            }
        } catch {
            throw CXError(.failure, "the cache file \(path) is unreadable (\(error))",
                          hint: "Move the cache directory away and run `cx sync` to download the data again.")
        }
        return meta
    }

    func jsonBytes() -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"format\":1,\"generation\":")
        w.number(UInt64(generation))
        w.raw(",\"customers\":")
        w.number(UInt64(customers))
        w.raw(",\"activities\":")
        w.number(UInt64(activities))
        w.raw(",\"cursor\":")
        w.optionalString(cursor)
        w.raw(",\"last_sync\":")
        w.optionalString(lastSync)
        w.raw(",\"scope\":")
        if let scope { scope.encode(into: &w) } else { w.raw("null") }
        w.raw(",\"rescoping\":")
        w.bool(rescoping)
        w.raw(",\"replica\":")
        if let replica { replica.write(to: &w) } else { w.raw("null") }
        w.raw("}\n")
        return w.bytes
    }
}
