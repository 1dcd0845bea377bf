import CXModel

/// The replica this cache writes as, and what it knows about its standing with the server.
///
/// A dot `(replica, counter)` must name one write forever. The counters live in the cache, so
/// the replica id lives there too: a new cache (created, or re-created after the old one was
/// moved away) starts a new incarnation with a fresh id. A cache copied to another laptop or
/// restored from a backup is noticed two ways: locally, because its lock file is a different
/// file (`fileID`, its inode) than the one the incarnation was made with; and by the server,
/// because it presents an older sync token (see docs/sync-protocol.md, "Replica incarnations").
/// Either way the cache continues as a new incarnation; what the server could not confirm is
/// re-issued under it (``RecordState/reminting(_:above:as:after:)``), never dropped.
///
/// Stored as `{"op":"replica","replica":{…}}` journal lines and in `meta.json`.
public struct ReplicaIncarnation: Hashable, Sendable {
    /// The replica id new writes carry.
    public var id: String
    /// The highest counter minted by this incarnation in any record.
    public var counter: UInt64 = 0
    /// The counter when the server last admitted a request of this incarnation: every write
    /// at or below it is shared history with the server's copy of this replica.
    public var syncedCounter: UInt64 = 0
    /// The sync token the server last accepted from this incarnation.
    public var token: String?
    /// The token proposed by a request whose reply has not arrived yet (reused on retry).
    public var proposedToken: String?
    /// ``counter`` when ``proposedToken`` was made: no request under that proposal carries a
    /// write above it. A restored or copied cache that still holds the proposal is admitted
    /// as the retry of its other copy's request, so whatever that copy sent under it must be
    /// writes both copies share (see ``SyncEngine/proposingIncarnation(_:base:)``). `nil` for
    /// proposals stored by an older cx.
    public var proposedCounter: UInt64?
    /// The inode of `cache/lock` when this incarnation was made; another value means the
    /// cache was copied or restored.
    public var fileID: UInt64 = 0

    public init(id: String, fileID: UInt64) {
        self.id = id
        self.fileID = fileID
    }

    /// A new incarnation id: the installation's replica id (from `cx init`) with a random
    /// suffix, shortened to fit ``ReplicaID/maximumLength``.
    public static func newID(base: String) -> String {
        let suffix = "." + String(RecordID.random().prefix(8))
        let room = ReplicaID.maximumLength - suffix.utf8.count
        var prefix = base
        while prefix.utf8.count > room { prefix.removeLast() }
        return prefix + suffix
    }

    /// A new random sync token.
    static func newToken() -> String {
        RecordID.random().replacingDashes()
    }

    func write(to w: inout JSONWriter) {
        w.raw("{\"id\":")
        w.string(id)
        w.raw(",\"counter\":")
        w.number(counter)
        w.raw(",\"synced_counter\":")
        w.number(syncedCounter)
        w.raw(",\"token\":")
        w.optionalString(token)
        w.raw(",\"proposed_token\":")
        w.optionalString(proposedToken)
        if let proposedCounter {
            w.raw(",\"proposed_counter\":")
            w.number(proposedCounter)
        }
        w.raw(",\"file_id\":")
        w.number(fileID)
        w.byte(UInt8(ascii: "}"))
    }

    static func read(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> ReplicaIncarnation {
        var result = ReplicaIncarnation(id: "", fileID: 0)
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "id": result.id = try scanner.string()
            case "counter": result.counter = UInt64(clamping: try scanner.integer())
            case "synced_counter": result.syncedCounter = UInt64(clamping: try scanner.integer())
            case "token": result.token = try scanner.consumeNull() ? nil : scanner.string()
            case "proposed_token": result.proposedToken = try scanner.consumeNull() ? nil : scanner.string()
            case "proposed_counter": result.proposedCounter = try scanner.consumeNull() ? nil : UInt64(clamping: try scanner.integer())
            case "file_id": result.fileID = UInt64(clamping: try scanner.integer())
            default: try scanner.skipValue()
            }
        }
        guard ReplicaID.isValid(result.id) else { throw scanner.failure("replica id '\(result.id)' is not valid") }
        return result
    }
}

extension String {
    fileprivate func replacingDashes() -> String {
        String(unicodeScalars.filter { $0 != "-" })
    }
}
