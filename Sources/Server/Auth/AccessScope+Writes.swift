/// What the server knows about a stored customer when it decides whether a user may write.
struct CustomerScopeFacts: Sendable, Equatable {
    /// The customer's territory (displayed value).
    var territory: String?
    /// Territories the customer left within the hand-off window.
    var recentlyLeft: Set<String> = []
}

extension AccessScope {
    /// Why the user may not write customer `id`, or `nil` when they may.
    ///
    /// - Parameters:
    ///   - stored: the customer as stored, `nil` when it is new to the server.
    ///   - mergedTerritory: its territory after the pushed state is merged in.
    func refusal(customer id: String, stored: CustomerScopeFacts?, mergedTerritory: String?) -> RecordStore.Rejection? {
        if isUnrestricted { return nil }
        guard let stored else {
            guard let mergedTerritory else {
                return RecordStore.Rejection(
                    id: id, code: .territoryRequired,
                    message: "customer \(id) has no territory; give it one of yours (\(territoryList)) with `cx edit ID --territory T`")
            }
            guard holds(mergedTerritory) else {
                return RecordStore.Rejection(
                    id: id, code: .territoryNotHeld,
                    message: "customer \(id) is in territory '\(mergedTerritory)', which you do not hold (yours: \(territoryList))")
            }
            return nil
        }
        if holds(stored.territory) {
            if holds(mergedTerritory) { return nil }
            let target = mergedTerritory.map { "to territory '\($0)'" } ?? "out of every territory"
            return RecordStore.Rejection(
                id: id, code: .territoryNotHeld,
                message: "you cannot move customer \(id) \(target): you hold \(territoryList); ask a manager or an admin")
        }
        if mayHandOff(currentTerritory: stored.territory, recentlyLeft: stored.recentlyLeft) {
            if mergedTerritory == stored.territory { return nil }
            return RecordStore.Rejection(
                id: id, code: .territoryNotHeld,
                message: "customer \(id) has left your territories; your other edits can still be handed off, but not a change of its territory")
        }
        return RecordStore.Rejection(
            id: id, code: .outOfScope, message: "customer \(id) is not in your territories (\(territoryList))")
    }

    /// Why the user may not write activity `id`, or `nil` when they may. An activity belongs to
    /// its customer's territory; `customers` are the customers it names (before and after the
    /// write), each with what the server knows of it (`nil`: unknown to the server).
    func refusal(activity id: String, customers: [(id: String, facts: CustomerScopeFacts?)]) -> RecordStore.Rejection? {
        if isUnrestricted { return nil }
        for (customerID, facts) in customers {
            guard let facts else {
                return RecordStore.Rejection(
                    id: id, code: .unknownCustomer,
                    message: "activity \(id) belongs to customer \(customerID), which the server does not have; push the customer first")
            }
            guard holds(facts.territory) || mayHandOff(currentTerritory: facts.territory, recentlyLeft: facts.recentlyLeft) else {
                return RecordStore.Rejection(
                    id: id, code: .outOfScope,
                    message: "activity \(id) belongs to customer \(customerID), which is not in your territories (\(territoryList))")
            }
        }
        return nil
    }
}
