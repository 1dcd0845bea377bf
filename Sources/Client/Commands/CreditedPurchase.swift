import CXModel

/// The purchase a credit note corrects (`cx purchase --credits`), resolved in the local cache.
///
/// When the cache holds it, it must be a live purchase (not itself a credit note) of the same
/// customer. A full id the cache does not hold (a purchase outside this laptop's scope, or not
/// synced yet) is accepted as given, with a note saying it could not be checked: the server
/// cannot check it either, as the purchase may reach it later.
struct CreditedPurchase {
    /// The purchase's canonical id.
    let id: String
    /// Its margin, which the credit note takes unless `--margin` is given (`nil`: none known).
    let margin: String?

    /// Resolves `text` (an id or unique prefix) for a credit note of customer `customerID`.
    /// - Throws: exit 65 when the record is not a purchase of that customer; the resolver's
    ///   errors when a prefix matches nothing or several records.
    static func resolve(_ text: String, customer customerID: String, in store: CacheStore, context: CommandContext) throws -> CreditedPurchase {
        if let full = RecordID.canonical(text), try store.kind(of: full) == nil {
            context.terminal.note(
                "Purchase \(full) is not in this cache, so cx cannot check that it is a purchase of customer \(Describe.short(customerID)); the credit note names it as given.")
            return CreditedPurchase(id: full, margin: nil)
        }
        let (id, _) = try context.resolve(text, in: store, kind: .activity)
        guard let state = try store.state(id) else { throw CXError(.failure, "no record \(id) in the cache") }
        let title = "\(Describe.title(RecordView(state))) (\(Describe.short(id)))"
        guard state.displayedValue("type") == "purchase" else {
            throw CXError(
                .dataError, "--credits \(text): \(title) is a \(state.displayedValue("type") ?? "activity"), not a purchase; nothing was recorded",
                hint: "--credits takes the purchase the credit note corrects (see `cx activities \(Describe.short(customerID))`).")
        }
        if state.displayedValue("credits") != nil {
            throw CXError(
                .dataError, "--credits \(text): \(title) is itself a credit note; nothing was recorded",
                hint: "Credit the original purchase (its id is the credit note's `credits` field).")
        }
        if state.isDeleted {
            throw CXError(.dataError, "--credits \(text): \(title) is deleted; nothing was recorded")
        }
        let owner = state.displayedValue("customer_id")
        guard owner == customerID else {
            let name = try owner.flatMap { try store.state($0) }.flatMap { $0.displayedValue("name") }
            let whose = owner.map { "customer \(name.map { "\($0) " } ?? "")(\(Describe.short($0)))" } ?? "no customer"
            throw CXError(
                .dataError, "--credits \(text): \(title) is a purchase of \(whose), not of customer \(Describe.short(customerID)); nothing was recorded",
                hint: "Record the credit note on the customer of the purchase: `cx purchase \(owner.map(Describe.short) ?? "CUSTOMER") … --credits \(Describe.short(id))`.")
        }
        return CreditedPurchase(id: id, margin: state.displayedValue("margin"))
    }
}
