import CXModel

/// What one `cx sync` did.
public struct SyncReport: Sendable {
    /// A record that left the user's scope but stays in the cache because it holds local
    /// changes the server has not taken (nothing a user typed is dropped silently).
    public struct Kept: Sendable, Equatable {
        public var id: String
        /// Why it is kept, for people (names the server's refusal when there was one).
        public var reason: String

        public init(id: String, reason: String) {
            self.id = id
            self.reason = reason
        }
    }

    /// States the server accepted from this replica.
    public var pushed = 0
    /// Pulled states that changed the local cache.
    public var pulled = 0
    /// Records with unresolved conflicts after the sync.
    public var conflicts = 0
    /// States the server refused (they stay pending).
    public var rejected: [RecordRejection] = []
    /// Pulled states that could not be read (skipped).
    public var skipped: [String] = []
    /// Records dropped from the cache because they left the user's scope (customers and
    /// activities together).
    public var removed = 0
    /// Records that left the scope but are kept because they have unpushed changes.
    public var kept: [Kept] = []
    /// The user's scope as the server last reported it (`nil` from servers without scopes).
    public var scope: SyncScope?
    /// Whether the scope differed from the one the cache knew, so the book was re-synced.
    public var scopeChanged = false
    /// Whether the whole book was pulled again and checked against the cache (after a scope
    /// change, on the first scoped sync of an older cache, or resuming an interrupted one).
    public var rescoped = false
    public var durationMS = 0
    /// The new replica id when this cache turned out to be a restored or copied one and
    /// continued as a new incarnation during the sync.
    public var reincarnated: String?
    /// Whether the server's history changed under the cursor (a restore or a failover), so the
    /// whole book was pulled again and this cache's own writes re-sent.
    public var recovered = false

    public init() {}

    /// `{"pushed","pulled","conflicts","rejected":[{"id","code","message"}],"removed",
    /// "kept":[{"id","reason"}],"duration_ms"}`: the keys of older versions keep their order,
    /// the newer ones come before `duration_ms`, which stays last.
    public func jsonBytes() -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"pushed\":")
        w.number(UInt64(pushed))
        w.raw(",\"pulled\":")
        w.number(UInt64(pulled))
        w.raw(",\"conflicts\":")
        w.number(UInt64(conflicts))
        w.raw(",\"rejected\":[")
        for (index, rejection) in rejected.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            rejection.encode(into: &w)
        }
        w.raw("],\"removed\":")
        w.number(UInt64(removed))
        w.raw(",\"kept\":[")
        for (index, kept) in kept.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.raw("{\"id\":")
            w.string(kept.id)
            w.raw(",\"reason\":")
            w.string(kept.reason)
            w.byte(UInt8(ascii: "}"))
        }
        w.raw("]")
        if recovered { w.raw(",\"server_restored\":true") }
        if let reincarnated {
            w.raw(",\"new_replica\":")
            w.string(reincarnated)
        }
        w.raw(",\"duration_ms\":")
        w.number(UInt64(durationMS))
        w.byte(UInt8(ascii: "}"))
        return w.bytes
    }
}

extension SyncReport {
    /// What the user should do about a record the server refused, naming the command that
    /// resolves it.
    ///
    /// - Parameters:
    ///   - rejection: The server's refusal (`code` decides the advice).
    ///   - kind: The record's kind in the cache (`nil` when it is not cached any more).
    ///   - customerID: For an activity, the customer it belongs to.
    /// - Returns: One sentence with the commands to run, using the record's short id.
    public static func remedy(for rejection: RecordRejection, kind: RecordKind?, customerID: String? = nil) -> String {
        let id = Describe.short(rejection.id)
        switch rejection.code {
        case .territoryRequired, .territoryNotHeld:
            if kind == .activity, let customerID {
                return "move it to a customer of yours (`cx edit \(id) --set customer_id=CUSTOMER`), or delete it (`cx rm \(id)`); its customer is \(Describe.short(customerID))"
            }
            return "give it one of your territories (`cx edit \(id) --territory T`), or delete it (`cx rm \(id)`)"
        case .outOfScope:
            return "it is no longer in your territories: pass your change on (`cx show \(id) --json`), then `cx forget \(id) --yes`"
        case .unknownCustomer:
            if let customerID {
                return "its customer \(Describe.short(customerID)) is not on the server: sync that customer first, or move the activity (`cx edit \(id) --set customer_id=CUSTOMER`) or delete it (`cx rm \(id)`)"
            }
            return "its customer is not on the server: move the activity (`cx edit \(id) --set customer_id=CUSTOMER`) or delete it (`cx rm \(id)`)"
        case .invalidRecord, .incompleteRecord:
            return "complete it (`cx edit \(id) --set FIELD=VALUE`, see `cx show \(id)`), or delete it (`cx rm \(id)`)"
        case .kindMismatch:
            return "the server holds a different kind of record under this id: keep a copy (`cx show \(id) --json`), then `cx forget \(id) --yes`"
        case .recordTooLarge:
            return "shorten its largest fields (`cx edit \(id) --notes …`), or ask the server's operator to raise --max-body-bytes"
        default:
            return "see `cx show \(id)`; fix it with `cx edit \(id)` or delete it with `cx rm \(id)`, then `cx sync` again"
        }
    }
}
