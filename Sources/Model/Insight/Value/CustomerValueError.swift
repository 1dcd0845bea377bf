/// Why the customer-value models could not be fitted on a book.
public struct CustomerValueError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: Hashable, Sendable {
        /// Too few customers bought more than once (on different days) for a fit.
        case tooFewRepeatCustomers(found: Int, needed: Int, customers: Int)
        /// The named model's likelihood maximisation did not settle.
        case didNotConverge(model: String)
        /// The Gamma-Gamma fit gave q ≤ 1: the mean spend per purchase is unbounded.
        case spendUnbounded(q: Double)
    }

    /// What went wrong.
    public let code: Code

    /// An error with `code`.
    public init(_ code: Code) {
        self.code = code
    }

    /// A sentence for the user, saying what they can do.
    public var description: String {
        switch code {
        case .tooFewRepeatCustomers(let found, let needed, let customers):
            return "the book is too small to fit the value models: \(found) of its \(customers) customers with purchases "
                + "bought again on a later day, and at least \(needed) need to (log more purchases, or look at a later --as-of date)"
        case .didNotConverge(let model):
            return "the \(model) fit did not converge on this book (its purchase histories may be too uniform to estimate the model)"
        case .spendUnbounded(let q):
            return "the Gamma-Gamma spend fit gave q = \(q) ≤ 1, so the expected spend per purchase is unbounded "
                + "(spend varies too much between customers for this model)"
        }
    }
}
