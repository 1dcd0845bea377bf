/// What one user may read and write, by territory.
///
/// Reps and managers see the customers whose territory (displayed value) is one they hold, with
/// those customers' activities; admins see everything. A territory removed from a user within
/// the hand-off window (`handoff_days`) still lets them push edits to its customers — edits
/// they made offline while the customer was theirs — but never pull, and never move a customer.
struct AccessScope: Sendable, Hashable {
    let role: UserRole
    /// Territories the user holds now.
    let territories: Set<String>
    /// Territories removed from the user within the hand-off window.
    let handoffTerritories: Set<String>

    /// Admins are not restricted by territory.
    var isUnrestricted: Bool { role == .admin }

    /// Whether customers of `territory` are in the user's book (read and write).
    func holds(_ territory: String?) -> Bool {
        if isUnrestricted { return true }
        guard let territory else { return false }
        return territories.contains(territory)
    }

    /// Whether the user may still push offline edits to a customer now in `territory` that
    /// recently left the territories in `recentlyLeft`.
    func mayHandOff(currentTerritory: String?, recentlyLeft: Set<String>) -> Bool {
        if let currentTerritory, handoffTerritories.contains(currentTerritory) { return true }
        return !recentlyLeft.isDisjoint(with: territories) || !recentlyLeft.isDisjoint(with: handoffTerritories)
    }

    /// The territories held, sorted, for messages and the sync response.
    var sortedTerritories: [String] { territories.sorted() }

    /// "north, east" or "none", for messages.
    var territoryList: String { territories.isEmpty ? "none" : sortedTerritories.joined(separator: ", ") }
}
