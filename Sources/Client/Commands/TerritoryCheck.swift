import CXModel

/// The offline check of `cx add`, `cx edit` and `cx rm`: would the server refuse this
/// customer's territory at the next `cx sync`? Judged by the scope the last sync learned
/// (``CacheStore/scope``), so it works offline and says nothing before the first sync.
enum TerritoryCheck {
    /// What the user did to the customer.
    enum Action {
        case add, edit, delete
    }

    /// A warning (for stderr) when a restricted user's customer has no territory or one they do
    /// not hold; `nil` when it is fine, when the user sees everything, or when the scope is
    /// not known yet.
    static func warning(territory: String?, scope: SyncScope?, id: String, action: Action) -> String? {
        guard let scope, !scope.isEverything else { return nil }
        let short = Describe.short(id)
        let held = scope.territories
        let yours = held.isEmpty ? "you hold no territory" : "yours: \(held.joined(separator: ", "))"
        let problem: String
        let code: String
        if let territory, !territory.isEmpty {
            guard !held.contains(territory) else { return nil }
            problem = "territory '\(territory)' is not one of yours (\(yours), as of the last sync)"
            code = RecordRejection.Code.territoryNotHeld.rawValue
        } else {
            problem = "this customer has no territory, and as a \(scope.role.rawValue) you need one (\(yours))"
            code = RecordRejection.Code.territoryRequired.rawValue
        }
        let example = held.first ?? "T"
        switch action {
        case .add:
            return "\(problem): `cx sync` will refuse customer \(short) (\(code)). "
                + "Give it one of yours (`cx edit \(short) --territory \(example)`), or drop it (`cx forget \(short) --yes`)."
        case .edit:
            return "\(problem): `cx sync` will refuse this change (\(code)). "
                + "Give it one of yours (`cx edit \(short) --territory \(example)`); only a manager or an admin can move it elsewhere."
        case .delete:
            return "\(problem): `cx sync` will refuse this delete as well (\(code)): a delete is checked like an edit. "
                + "If customer \(short) never reached the server, `cx forget \(short) --yes` drops it from this laptop."
        }
    }
}
