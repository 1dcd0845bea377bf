import CXModel

/// The part of the data a user may sync, as the server reports it in every sync reply
/// (`"scope": {"user","role","territories"}`): an admin sees everything, others the customers
/// of their territories (and those customers' activities).
///
/// The cache stores the last scope it saw; a different one starts a rescope (see
/// ``SyncEngine``). Two scopes are equal when role and territories are; the user name is
/// informational.
public struct SyncScope: Sendable, Equatable {
    /// The server role: `rep`, `manager` or `admin`.
    public var role: String
    /// The territories held, sorted and without duplicates.
    public var territories: [String]

    /// Creates a scope; territories are sorted and deduplicated.
    public init(role: String, territories: [String]) {
        self.role = role
        self.territories = Array(Set(territories)).sorted()
    }

    /// Whether the role sees every territory.
    public var isEverything: Bool { role == "admin" }

    /// For people: `rep of north, east`, `admin (everything)`, `rep without territories`.
    public var summary: String {
        if isEverything { return "\(role) (everything)" }
        if territories.isEmpty { return "\(role) without territories" }
        return "\(role) of \(territories.joined(separator: ", "))"
    }

    /// `{"role":R,"territories":[…]}`.
    func write(to w: inout JSONWriter) {
        w.raw("{\"role\":")
        w.string(role)
        w.raw(",\"territories\":[")
        for (index, territory) in territories.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(territory)
        }
        w.raw("]}")
    }

    /// Reads `{"role":R,"territories":[…]}` (other keys, such as `user`, are skipped).
    static func read(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) -> SyncScope {
        var role = "", territories: [String] = []
        try scanner.object { scanner, key throws(JSONScanner.Failure) in
            switch key {
            case "role": role = try scanner.string()
            case "territories":
                try scanner.array { scanner throws(JSONScanner.Failure) in territories.append(try scanner.string()) }
            default: try scanner.skipValue()
            }
        }
        guard !role.isEmpty else { throw scanner.failure("a scope without a role") }
        return SyncScope(role: role, territories: territories)
    }
}
