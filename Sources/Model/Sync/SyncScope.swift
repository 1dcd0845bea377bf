/// The part of the data a user may sync, as the server reports it in every sync reply
/// (`"scope": {"user","role","territories"}`, docs/sync-protocol.md §4a): an admin sees
/// everything, others the customers of their territories (and those customers' activities).
///
/// The server writes it from the user it authenticated; `cx` stores the last one it saw
/// (without the user: `{"role","territories"}`, docs/cache-format.md) and starts a rescope when
/// a reply's differs. Two scopes are equal when role and territories are; the user name is
/// informational.
public struct SyncScope: Sendable, CustomStringConvertible {
    /// What a user may see and do; the server's user role and the scope's `role` alike.
    public enum Role: String, Sendable, CaseIterable {
        /// A field sales rep.
        case rep
        /// A manager overseeing several territories.
        case manager
        /// Sees everything and administers the server.
        case admin
    }

    /// The user name, as the server reports it; `nil` where a scope is stored without it.
    public var user: String?
    public var role: Role
    /// The territories held, sorted and without duplicates (`[]` for admins).
    public var territories: [String]

    /// Creates a scope; territories are sorted and deduplicated.
    public init(user: String? = nil, role: Role, territories: [String]) {
        self.user = user
        self.role = role
        self.territories = Array(Set(territories)).sorted()
    }

    /// Whether the role sees every territory.
    public var isEverything: Bool { role == .admin }

    /// For people: `rep of north, east`, `admin (everything)`, `rep without territories`.
    public var summary: String {
        if isEverything { return "\(role.rawValue) (everything)" }
        if territories.isEmpty { return "\(role.rawValue) without territories" }
        return "\(role.rawValue) of \(territories.joined(separator: ", "))"
    }

    public var description: String { summary }

    /// Writes `{"user":U,"role":R,"territories":[…]}`, `user` only when known.
    public func encode(into w: inout JSONWriter) {
        w.byte(UInt8(ascii: "{"))
        if let user {
            w.raw("\"user\":")
            w.string(user)
            w.byte(UInt8(ascii: ","))
        }
        w.raw("\"role\":")
        w.string(role.rawValue)
        w.raw(",\"territories\":[")
        for (index, territory) in territories.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(territory)
        }
        w.raw("]}")
    }

    /// Reads `{"user","role","territories"}`; `user` may be absent, other keys are skipped.
    /// A missing or unknown role is refused.
    public init(reading scanner: inout JSONScanner) throws(JSONScanner.Failure) {
        var user: String?, role: Role?, territories: [String] = []
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "user": user = try scanner.consumeNull() ? nil : try scanner.string()
            case "role":
                let text = try scanner.string()
                guard let known = Role(rawValue: text) else {
                    throw scanner.failure("unknown role '\(text.prefix(100))' in scope; expected rep, manager or admin")
                }
                role = known
            case "territories":
                try scanner.array { scanner throws(JSONScanner.Failure) in territories.append(try scanner.string()) }
            default: try scanner.skipValue()
            }
        }
        guard let role else { throw scanner.failure("a scope without a role") }
        self.init(user: user, role: role, territories: territories)
    }
}

extension SyncScope: Equatable {
    /// Role and territories decide; the user name is informational.
    public static func == (lhs: SyncScope, rhs: SyncScope) -> Bool {
        lhs.role == rhs.role && lhs.territories == rhs.territories
    }
}
