/// A customer's classification as of a date, from the customer-centric definition: a customer
/// buys regularly, pays on time, brings the target margin and recommends you.
public enum CustomerStatus: String, Hashable, Sendable, CaseIterable {
    /// Never bought.
    case lead
    /// Paid late, or owes an overdue amount, within the window.
    case badDebt = "bad_debt"
    /// Fewer than two purchases within the window.
    case passerBy = "passer_by"
    /// Buys regularly but below the target margin.
    case prospect
    /// A good customer who also referred someone within the window.
    case advocate
    /// Buys regularly, pays on time, at or above the target margin.
    case customer
}
