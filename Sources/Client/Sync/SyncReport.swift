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

    /// A record that was moved to the survivor of a merge (``MergeRedirect``): edits made to
    /// a merged duplicate, or an activity of it.
    public struct Redirect: Sendable, Equatable {
        /// The duplicate customer whose edits moved, or the activity moved.
        public var id: String
        public var kind: RecordKind
        /// The survivor.
        public var to: String
        /// The fields written on the survivor (for an activity: `customer_id`).
        public var fields: [String]
        /// Those of the fields now in conflict on the survivor.
        public var conflicts: [String]
        /// Tags added to the survivor.
        public var tags: [String]
        /// Whether this customer's merge crossed another one: merges made elsewhere had merged
        /// the customers of a chain into each other, so none was left; the survivor (`to`, the
        /// smallest id of the cycle) was restored and took what it had not seen of the others.
        public var crossed: Bool

        public init(id: String, kind: RecordKind, to: String, fields: [String], conflicts: [String], tags: [String], crossed: Bool = false) {
            self.id = id
            self.kind = kind
            self.to = to
            self.fields = fields
            self.conflicts = conflicts
            self.tags = tags
            self.crossed = crossed
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
    /// Records moved to the survivor of a merge they missed (sent in the same `cx sync`).
    public var redirected: [Redirect] = []

    public init() {}

    /// This report followed by `next`, a further round of the same sync.
    func followed(by next: SyncReport) -> SyncReport {
        var result = next
        result.pushed += pushed
        result.pulled += pulled
        result.rejected = rejected.filter { old in !next.rejected.contains { $0.id == old.id } } + next.rejected
        result.skipped = skipped + next.skipped
        result.removed += removed
        result.kept = next.kept
        result.scope = next.scope ?? scope
        result.scopeChanged = scopeChanged || next.scopeChanged
        result.rescoped = rescoped || next.rescoped
        result.reincarnated = next.reincarnated ?? reincarnated
        result.recovered = recovered || next.recovered
        result.redirected = redirected + next.redirected
        result.durationMS = durationMS + next.durationMS
        return result
    }

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
        if !redirected.isEmpty {
            w.raw(",\"redirected\":[")
            for (index, redirect) in redirected.enumerated() {
                if index > 0 { w.byte(UInt8(ascii: ",")) }
                w.raw("{\"id\":")
                w.string(redirect.id)
                w.raw(",\"kind\":")
                w.string(redirect.kind.rawValue)
                w.raw(",\"to\":")
                w.string(redirect.to)
                for (key, values) in [("fields", redirect.fields), ("conflicts", redirect.conflicts), ("tags", redirect.tags)] {
                    w.byte(UInt8(ascii: ","))
                    w.string(key)
                    w.raw(":[")
                    for (position, value) in values.enumerated() {
                        if position > 0 { w.byte(UInt8(ascii: ",")) }
                        w.string(value)
                    }
                    w.byte(UInt8(ascii: "]"))
                }
                if redirect.crossed { w.raw(",\"crossed\":true") }
                w.byte(UInt8(ascii: "}"))
            }
            w.byte(UInt8(ascii: "]"))
        }
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
    /// What the cache knows about a record the server refused, for the advice.
    public struct RefusedRecord: Sendable, Equatable {
        /// Its kind (`nil` when it is not cached any more).
        public var kind: RecordKind?
        /// For an activity, the customer it belongs to.
        public var customerID: String?
        /// Whether it is deleted here (its delete was refused too: `cx rm` cannot help).
        public var deleted: Bool
        /// Whether only this home ever wrote it, so the server may never have had it and
        /// `cx forget ID --yes` can drop it from this laptop.
        public var localOnly: Bool
        /// The territories the user holds, as the last sync saw them (`nil`: unknown).
        public var territories: [String]?

        public init(kind: RecordKind?, customerID: String? = nil, deleted: Bool = false, localOnly: Bool = false, territories: [String]? = nil) {
            self.kind = kind
            self.customerID = customerID
            self.deleted = deleted
            self.localOnly = localOnly
            self.territories = territories
        }
    }

    /// What the user should do about a record the server refused, naming the command that
    /// resolves it.
    ///
    /// - Parameters:
    ///   - rejection: The server's refusal (`code` decides the advice).
    ///   - kind: The record's kind in the cache (`nil` when it is not cached any more).
    ///   - customerID: For an activity, the customer it belongs to.
    /// - Returns: One sentence with the commands to run, using the record's short id.
    public static func remedy(for rejection: RecordRejection, kind: RecordKind?, customerID: String? = nil) -> String {
        remedy(for: rejection, record: RefusedRecord(kind: kind, customerID: customerID))
    }

    /// What the user should do about a record the server refused: only commands that resolve
    /// it (a delete is scope-checked like any write, so `cx rm` is not offered where the server
    /// would refuse the delete as well).
    ///
    /// - Parameters:
    ///   - rejection: The server's refusal (`code` decides the advice).
    ///   - record: What the cache knows about the record.
    /// - Returns: One sentence with the commands to run, using the record's short id.
    public static func remedy(for rejection: RecordRejection, record: RefusedRecord) -> String {
        let id = Describe.short(rejection.id)
        let forget = "drop it from this laptop (`cx forget \(id) --yes`; keep a copy first with `cx show \(id) --json`)"
        let yours = record.territories.map { $0.isEmpty ? "; you hold no territory" : "; yours: \($0.joined(separator: ", "))" } ?? ""
        switch rejection.code {
        case .territoryRequired, .territoryNotHeld:
            if record.kind == .activity {
                let customer = record.customerID.map { "; its customer is \(Describe.short($0))" } ?? ""
                return "move it to a customer of yours (`cx edit \(id) --set customer_id=CUSTOMER`)"
                    + (record.localOnly ? ", or \(forget)" : "") + customer
            }
            if record.deleted {
                return record.localOnly
                    ? "it is deleted here, but the server refuses the delete as well (a delete is checked like an edit): \(forget)"
                    : "it is deleted here, and the server refuses the delete as well: ask a manager or an admin to move it to a territory of yours, then `cx sync`"
            }
            if record.localOnly {
                return "give it one of your territories (`cx edit \(id) --territory T`\(yours)), or, if it should not be yours, \(forget)"
            }
            return "give it back one of your territories (`cx edit \(id) --territory T`\(yours)); only a manager or an admin can move it elsewhere"
        case .outOfScope:
            return "it is no longer in your territories: pass your change on (`cx show \(id) --json`), then `cx forget \(id) --yes`"
        case .unknownCustomer:
            let customer = record.customerID.map { "its customer \(Describe.short($0))" } ?? "its customer"
            var text = "\(customer) is not on the server: sync that customer first (see its own refusal), or move the activity (`cx edit \(id) --set customer_id=CUSTOMER`)"
            if record.localOnly { text += ", or \(forget)" }
            if let customerID = record.customerID {
                text += "; `cx forget \(Describe.short(customerID)) --yes` drops a customer that never reached the server with its activities"
            }
            return text
        case .invalidRecord, .incompleteRecord:
            if record.deleted {
                return record.localOnly
                    ? "it is deleted here, but the server refuses the state: \(forget)"
                    : "it is deleted here, but the server refuses the state: keep a copy (`cx show \(id) --json`) and ask the server's operator"
            }
            return "complete it (`cx edit \(id) --set FIELD=VALUE`, see `cx show \(id)`)" + (record.localOnly ? ", or \(forget)" : "")
        case .kindMismatch:
            return "the server holds a different kind of record under this id: keep a copy (`cx show \(id) --json`), then `cx forget \(id) --yes`"
        case .mergeWaiting:
            return "nothing to do here: it goes out with a later `cx sync` once the customer it was merged into reaches the server — settle that customer's own refusal (above) first"
        case .recordTooLarge:
            return "shorten its largest fields (`cx edit \(id) --notes …`), or ask the server's operator to raise --max-body-bytes"
        case .tooManyEntries:
            return "it holds too many field entries: resolve its conflicts (`cx conflicts`) and shorten its tags (`cx edit \(id) --tag -T`)"
                + (record.localOnly ? ", or \(forget)" : "")
        default:
            return "see `cx show \(id)`; fix it with `cx edit \(id)`" + (record.localOnly ? " or \(forget)" : "") + ", then `cx sync` again"
        }
    }
}
