import CXModel

/// What `cx show` says about credit notes: for a credit note, the purchase it corrects; for a
/// purchase, the credit notes that correct it (among its customer's activities in the cache).
enum CreditNoteLines {
    /// `  Credit note for purchase 9b1d22ab: 120.00 on 2026-03-02` or
    /// `  Credited by 4e5f6a7b: -20.00 on 2026-03-09`; nothing for other activities.
    static func lines(for view: RecordView, in store: CacheStore) throws -> [String] {
        guard view.value("type") == "purchase" else { return [] }
        if let credited = view.value("credits") {
            guard let bytes = try store.viewBytes(credited), let purchase = try? RecordView(jsonBytes: bytes) else {
                return ["  Credit note for purchase \(Describe.short(credited)) (not in this cache)"]
            }
            return ["  Credit note for purchase \(Describe.short(credited)): \(summary(purchase))"]
        }
        guard let customer = view.value("customer_id") else { return [] }
        var notes: [RecordView] = []
        for id in try store.activityIDs(ofCustomer: customer) where id != view.id {
            guard let bytes = try store.viewBytes(id), let other = try? RecordView(jsonBytes: bytes),
                !other.deleted, other.value("credits") == view.id
            else { continue }
            notes.append(other)
        }
        notes.sort { RecordView.isActivityBefore($0, $1) }
        return notes.map { "  Credited by \(Describe.short($0.id)): \(summary($0))" }
    }

    /// `120.00 on 2026-03-02`.
    private static func summary(_ view: RecordView) -> String {
        "\(view.value("amount") ?? "?") on \(view.value("on") ?? "?")" + (view.deleted ? " (deleted)" : "")
    }
}
