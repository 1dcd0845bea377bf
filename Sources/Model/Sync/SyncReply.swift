/// The `200` reply to `POST /v1/sync` (docs/sync-protocol.md §1):
/// `{"changes":[state…],"cursor","has_more","reset"?,"rejected":[…],"removed":[…],"scope":{…},"features":[…],"echo_receipt"?,"snapshot"?}`.
///
/// The server writes it with ``jsonBytes()``; `cx` reads it with ``init(parsing:)``, which
/// skips keys it does not know and accepts replies of servers that predate scopes (no
/// `removed`, no `scope`).
public struct SyncReply: Sendable, Equatable {
    /// A pushed record the server did not write.
    public typealias Rejection = RecordRejection

    /// The pulled states, as raw JSON (decoded one by one, so one bad state cannot hide others).
    public var changes: [[UInt8]]
    /// The cursor to send next time.
    public var cursor: String?
    /// More changes are waiting: sync again at once with the new cursor.
    public var hasMore: Bool
    /// The request's cursor came from before a restore or failover of the server's database:
    /// the page starts from the beginning and the client should re-send its own writes. Sent
    /// only when true.
    public var reset: Bool
    public var rejected: [Rejection]
    /// Ids of records that left the user's scope after the request's cursor (empty from
    /// servers that predate scopes).
    public var removed: [String]
    /// The user's current scope (`nil` from servers that predate scopes).
    public var scope: SyncScope?
    /// The request options this server understands (empty from servers that predate them):
    /// a client sends an option only once a reply listed it, so it keeps working with older
    /// servers, which refuse unknown request keys.
    public var features: [Feature]
    /// What a push-only request (``SyncEnvelope/pushOnly``) left exactly as sent; `nil` in
    /// every other reply, and when the push left nothing as sent.
    public var echoReceipt: EchoReceipt?
    /// In the reply to a snapshot request (``SyncEnvelope/snapshot``) only: `true` while the
    /// snapshot goes on (its ``cursor`` continues it, with `snapshot` again), `false` on its
    /// last page, whose ``cursor`` is a regular one the changes since the snapshot began follow.
    /// `nil` in every other reply.
    public var snapshot: Bool?

    /// A request option a server may list in ``features``.
    public struct Feature: RawRepresentable, Hashable, Sendable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// ``SyncEnvelope/omitsEchoes``: the page leaves out what the request wrote exactly as sent.
        public static let omitEchoes = Feature(rawValue: "omit_echoes")
        /// Pushed states may be compact (``StateFormat/compact``), and
        /// ``SyncEnvelope/wantsCompactStates`` asks for compact states in the page.
        public static let compactStates = Feature(rawValue: "compact_states")
        /// ``SyncEnvelope/pushOnly`` and ``SyncEnvelope/echoReceipts``: a client may push
        /// ahead of its previous request's answer (docs/sync-protocol.md §4c).
        public static let pushAhead = Feature(rawValue: "push_ahead")
        /// ``SyncEnvelope/snapshot``: a client with nothing cached may pull the whole scope in
        /// id order (docs/sync-protocol.md §2a).
        public static let snapshot = Feature(rawValue: "snapshot")
    }

    public init(
        changes: [[UInt8]], cursor: String?, hasMore: Bool, rejected: [Rejection] = [], removed: [String] = [],
        scope: SyncScope? = nil, reset: Bool = false, features: [Feature] = [], echoReceipt: EchoReceipt? = nil,
        snapshot: Bool? = nil
    ) {
        self.changes = changes
        self.cursor = cursor
        self.hasMore = hasMore
        self.rejected = rejected
        self.removed = removed
        self.scope = scope
        self.reset = reset
        self.features = features
        self.echoReceipt = echoReceipt
        self.snapshot = snapshot
    }

    /// Writes the reply: `changes` (each state's bytes as they are), `cursor`, `has_more`,
    /// `reset` only when true, `rejected`, `removed`, `scope` when known, `features` when any,
    /// `echo_receipt` when there is one, and `snapshot` in the reply to a snapshot request.
    public func encode(into w: inout JSONWriter) {
        w.raw("{\"changes\":[")
        for (index, state) in changes.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.rawJSON(state)
        }
        w.raw("],\"cursor\":")
        w.optionalString(cursor)
        w.raw(",\"has_more\":")
        w.bool(hasMore)
        if reset { w.raw(",\"reset\":true") }
        w.raw(",\"rejected\":[")
        for (index, rejection) in rejected.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            rejection.encode(into: &w)
        }
        w.raw("],\"removed\":[")
        for (index, id) in removed.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(id)
        }
        w.byte(UInt8(ascii: "]"))
        if let scope {
            w.raw(",\"scope\":")
            scope.encode(into: &w)
        }
        if !features.isEmpty {
            w.raw(",\"features\":[")
            for (index, feature) in features.enumerated() {
                if index > 0 { w.byte(UInt8(ascii: ",")) }
                w.string(feature.rawValue)
            }
            w.byte(UInt8(ascii: "]"))
        }
        if let echoReceipt {
            w.raw(",\"echo_receipt\":")
            w.string(echoReceipt.rawValue)
        }
        if let snapshot {
            w.raw(",\"snapshot\":")
            w.bool(snapshot)
        }
        w.byte(UInt8(ascii: "}"))
    }

    /// The reply as JSON bytes.
    public func jsonBytes() -> [UInt8] {
        var w = JSONWriter(capacity: changes.reduce(256) { $0 + $1.count + 1 })
        encode(into: &w)
        return w.bytes
    }

    /// Reads a reply. Unknown keys are skipped; `cursor`, `removed` and `scope` may be `null`.
    public init(parsing body: [UInt8]) throws(JSONScanner.Failure) {
        var reply = SyncReply(changes: [], cursor: nil, hasMore: false)
        try JSONScanner.scan(body) { scanner throws(JSONScanner.Failure) in
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                switch key {
                case "changes":
                    try scanner.array { scanner throws(JSONScanner.Failure) in reply.changes.append(try scanner.rawValue()) }
                case "cursor": reply.cursor = try scanner.consumeNull() ? nil : try scanner.string()
                case "has_more": reply.hasMore = try scanner.bool()
                case "reset": reply.reset = try scanner.bool()
                case "rejected":
                    try scanner.array { scanner throws(JSONScanner.Failure) in
                        reply.rejected.append(try RecordRejection(reading: &scanner))
                    }
                case "removed":
                    if try !scanner.consumeNull() {
                        try scanner.array { scanner throws(JSONScanner.Failure) in reply.removed.append(try scanner.string()) }
                    }
                case "scope":
                    reply.scope = try scanner.consumeNull() ? nil : try SyncScope(reading: &scanner)
                case "features":
                    if try !scanner.consumeNull() {
                        try scanner.array { scanner throws(JSONScanner.Failure) in
                            reply.features.append(Feature(rawValue: try scanner.string()))
                        }
                    }
                case "echo_receipt":
                    reply.echoReceipt = try scanner.consumeNull() ? nil : EchoReceipt(rawValue: try scanner.string())
                case "snapshot": reply.snapshot = try scanner.consumeNull() ? nil : try scanner.bool()
                default: try scanner.skipValue()
                }
            }
            try scanner.expectEnd()
        }
        self = reply
    }
}
