/// The body of `POST /v1/sync` (docs/sync-protocol.md §1, §4b):
/// `{"replica_id","sync_token","next_sync_token","cursor","changes":[state…],"limit","omit_echoes","compact_states","push_only","echo_receipts","snapshot"}`.
///
/// `cx` writes it with ``jsonBytes()``; the server reads it with
/// ``init(reading:maximumChanges:change:)``, which is as strict as §8a and §9 ask (unknown keys,
/// duplicate keys and trailing data are refused) but leaves the judging of each pushed state to
/// the caller, so one bad record never fails the request.
public struct SyncEnvelope: Sendable, Equatable {
    /// The pushing replica (its incarnation id).
    public var replicaID: String
    /// The token this replica last had accepted (`nil` before its first). Sent only together
    /// with ``nextSyncToken``.
    public var syncToken: String?
    /// The token proposed for the next request; clients that send none skip the §4b check.
    public var nextSyncToken: String?
    /// The cursor of the last reply processed; `nil` pulls from the start.
    public var cursor: String?
    /// The pushed record states, each as complete JSON bytes. Empty when reading with a
    /// `change` handler, which receives them instead.
    public var changes: [[UInt8]]
    /// Most changes to return; `nil` leaves the server's default.
    public var limit: Int?
    /// Asks the server to leave out of the page the states this request wrote exactly as sent
    /// (the sender holds them already); the cursor still moves past them. Sent only to servers
    /// that list ``SyncReply/Feature/omitEchoes`` in a reply, and only by a client that does
    /// not need every state of the page (not during a rescope).
    public var omitsEchoes = false
    /// Asks for the page's states in the compact form (``StateFormat/compact``); without it the
    /// server answers the expanded form older clients read. Sent only to servers that list
    /// ``SyncReply/Feature/compactStates``.
    public var wantsCompactStates = false
    /// Asks the server to push and answer without pulling: no page, the cursor as sent, and an
    /// ``SyncReply/echoReceipt`` for what the push left exactly as sent. A client sends such a
    /// push while its previous request is still unanswered (docs/sync-protocol.md §4c), only to
    /// servers that list ``SyncReply/Feature/pushAhead``.
    public var pushOnly = false
    /// Receipts of this sync's push-only requests (``EchoReceipt``): with ``omitsEchoes``, the
    /// page also leaves out the states they name that are still as those pushes stored them.
    /// Sent only to servers that list ``SyncReply/Feature/pushAhead``.
    public var echoReceipts: [EchoReceipt] = []
    /// Asks for the next page of a snapshot of the user's scope in id order instead of the
    /// changes after the cursor (docs/sync-protocol.md §2a): sent with no cursor (the start) or
    /// the cursor of a snapshot reply, and nothing to push. Sent only to servers that list
    /// ``SyncReply/Feature/snapshot``.
    public var snapshot = false

    public init(
        replicaID: String, syncToken: String? = nil, nextSyncToken: String? = nil, cursor: String?,
        changes: [[UInt8]], limit: Int? = nil, omitsEchoes: Bool = false, wantsCompactStates: Bool = false,
        pushOnly: Bool = false, echoReceipts: [EchoReceipt] = [], snapshot: Bool = false
    ) {
        self.replicaID = replicaID
        self.syncToken = syncToken
        self.nextSyncToken = nextSyncToken
        self.cursor = cursor
        self.changes = changes
        self.limit = limit
        self.omitsEchoes = omitsEchoes
        self.wantsCompactStates = wantsCompactStates
        self.pushOnly = pushOnly
        self.echoReceipts = echoReceipts
        self.snapshot = snapshot
    }

    /// Why a body is not a sync envelope. The server answers each with its own error code.
    public enum ReadError: Error, Sendable, CustomStringConvertible {
        /// Not strict JSON, a value of the wrong type, or trailing data (`malformed_json`).
        case malformed(JSONScanner.Failure)
        /// A key the envelope does not have (`unknown_field`).
        case unknownField(JSONScanner.Failure)
        /// More than `maximumChanges` states (`too_many_changes`).
        case tooManyChanges(maximum: Int)
        /// The envelope has no `replica_id` (`missing_field`).
        case missingReplicaID

        public var description: String {
            switch self {
            case .malformed(let failure), .unknownField(let failure): failure.description
            case .tooManyChanges(let maximum): "a request may push at most \(maximum) records"
            case .missingReplicaID: "replica_id is required"
            }
        }
    }

    /// Writes the envelope: `replica_id`, then `sync_token` and `next_sync_token` (only with a
    /// next token), `cursor` (`null` for none), `changes`, `limit` when given,
    /// `"omit_echoes":true`, `"compact_states":true` and `"push_only":true` when asked,
    /// `echo_receipts` when there are any, and `"snapshot":true` when asked.
    public func encode(into w: inout JSONWriter) {
        w.raw("{\"replica_id\":")
        w.string(replicaID)
        if let nextSyncToken {
            w.raw(",\"sync_token\":")
            w.optionalString(syncToken)
            w.raw(",\"next_sync_token\":")
            w.string(nextSyncToken)
        }
        w.raw(",\"cursor\":")
        w.optionalString(cursor)
        w.raw(",\"changes\":[")
        for (index, state) in changes.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.rawJSON(state)
        }
        w.byte(UInt8(ascii: "]"))
        if let limit {
            w.raw(",\"limit\":")
            if limit < 0 { w.byte(UInt8(ascii: "-")) }
            w.number(UInt64(limit.magnitude))
        }
        if omitsEchoes { w.raw(",\"omit_echoes\":true") }
        if wantsCompactStates { w.raw(",\"compact_states\":true") }
        if pushOnly { w.raw(",\"push_only\":true") }
        if !echoReceipts.isEmpty {
            w.raw(",\"echo_receipts\":[")
            for (index, receipt) in echoReceipts.enumerated() {
                if index > 0 { w.byte(UInt8(ascii: ",")) }
                w.string(receipt.rawValue)
            }
            w.byte(UInt8(ascii: "]"))
        }
        if snapshot { w.raw(",\"snapshot\":true") }
        w.byte(UInt8(ascii: "}"))
    }

    /// The envelope as JSON bytes.
    public func jsonBytes() -> [UInt8] {
        var w = JSONWriter(capacity: changes.reduce(256) { $0 + $1.count + 1 } + echoReceipts.reduce(0) { $0 + 4 + $1.rawValue.utf8.count })
        encode(into: &w)
        return w.bytes
    }

    /// Reads a body. Keys may come in any order; `cursor`, `changes`, `limit` and the tokens are
    /// optional (`null` is absent, except for `limit`, an integer). Each element of `changes` must be valid JSON; `change`
    /// receives a scanner over exactly that element (in order) and judges it on its own. Without
    /// a handler the elements are kept in ``changes``. Values (the replica id, the cursor, the
    /// limit, the tokens) are read but not judged: that is the receiver's business.
    ///
    /// - Parameters:
    ///   - body: The request body.
    ///   - maximumChanges: More elements in `changes` fail with ``ReadError/tooManyChanges(maximum:)``.
    ///   - checkingChanges: `false` splits `changes` by the elements' brackets alone
    ///     (``JSONScanner/bracketedValueScanner()``), for a reader that reads every element in
    ///     full anyway, which checks it; when one fails to read, it must read the body again
    ///     with checks before it trusts the failure (the error may be the body's syntax).
    ///   - change: Called with each pushed state; `nil` keeps them in ``changes``.
    public init(
        reading body: [UInt8], maximumChanges: Int = .max, checkingChanges: Bool = true,
        change: ((inout JSONScanner) -> Void)? = nil
    ) throws(ReadError) {
        var replicaID: String?
        var envelope = SyncEnvelope(replicaID: "", cursor: nil, changes: [])
        // Which failure a scanner failure stands for (set just before throwing it).
        var problem: ReadError?
        do throws(JSONScanner.Failure) {
            try JSONScanner.scan(body) { scanner throws(JSONScanner.Failure) in
                try scanner.object { scanner, key throws(JSONScanner.Failure) in
                    switch key {
                    case "replica_id": replicaID = try scanner.string()
                    case "cursor": envelope.cursor = try scanner.consumeNull() ? nil : try scanner.string()
                    case "limit": envelope.limit = Int(try scanner.integer())
                    case "omit_echoes": envelope.omitsEchoes = try scanner.bool()
                    case "compact_states": envelope.wantsCompactStates = try scanner.bool()
                    case "push_only": envelope.pushOnly = try scanner.bool()
                    case "snapshot": envelope.snapshot = try scanner.bool()
                    case "echo_receipts":
                        try scanner.array { scanner throws(JSONScanner.Failure) in
                            envelope.echoReceipts.append(EchoReceipt(rawValue: try scanner.string()))
                        }
                    case "sync_token": envelope.syncToken = try scanner.consumeNull() ? nil : try scanner.string()
                    // Always a string when present: a proposal of "no next token" is not a thing.
                    case "next_sync_token": envelope.nextSyncToken = try scanner.string()
                    case "changes":
                        var count = 0
                        try scanner.array { scanner throws(JSONScanner.Failure) in
                            count += 1
                            guard count <= maximumChanges else {
                                problem = .tooManyChanges(maximum: maximumChanges)
                                throw scanner.failure("too many changes")
                            }
                            // The element must be valid JSON (else the whole body is malformed);
                            // what it says is then judged per record.
                            var element = checkingChanges ? try scanner.valueScanner() : try scanner.bracketedValueScanner()
                            if let change {
                                change(&element)
                            } else {
                                envelope.changes.append(element.scannedBytes)
                            }
                        }
                    default:
                        let failure = scanner.failure(
                            "unknown field '\(key.prefix(100))'; expected replica_id, cursor, changes, limit, sync_token, next_sync_token, omit_echoes, compact_states, push_only, echo_receipts, snapshot")
                        problem = .unknownField(failure)
                        throw failure
                    }
                }
                try scanner.expectEnd()
            }
        } catch {
            throw problem ?? .malformed(error)
        }
        guard let replicaID else { throw .missingReplicaID }
        envelope.replicaID = replicaID
        self = envelope
    }
}
