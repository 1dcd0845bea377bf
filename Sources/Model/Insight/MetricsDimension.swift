/// A customer attribute that splits the customer base for a breakdown (`cx report --by`,
/// SQL `cx.customer_metrics_by`).
public enum MetricsDimension: String, CaseIterable, Sendable {
    case territory, segment, owner

    /// The customer's value of this attribute; customers without one form the group `""`.
    public func value(of customer: CustomerBook.Customer) -> String {
        switch self {
        case .territory: customer.territory ?? ""
        case .segment: customer.segment ?? ""
        case .owner: customer.owner ?? ""
        }
    }
}
