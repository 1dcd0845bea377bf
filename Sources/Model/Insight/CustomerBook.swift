/// The facts classification and metrics need, read from record states: live customers and
/// their live purchases, referrals and touchpoints. Deleted records do not count; a record in a
/// delete/edit conflict is still visible and counts.
public struct CustomerBook: Sendable {
    /// A customer.
    public struct Customer: Hashable, Sendable {
        /// The customer id.
        public let id: String
        /// Displayed name.
        public let name: String
        /// Displayed territory, if any.
        public let territory: String?
        /// Displayed owner (rep), if any.
        public let owner: String?
        /// Displayed segment, if any.
        public let segment: String?

        /// Creates a customer.
        public init(id: String, name: String, territory: String?, owner: String?, segment: String? = nil) {
            self.id = id
            self.name = name
            self.territory = territory
            self.owner = owner
            self.segment = segment
        }
    }

    /// A purchase (of the customer whose list holds it).
    public struct Purchase: Hashable, Sendable {
        /// The date it happened.
        public let on: CalendarDate
        /// Purchase amount.
        public let amount: Money
        /// `nil` when no margin was recorded; such purchases are left out of the margin average.
        public let margin: DecimalText?
        /// Payment due date (`on` + 30 days unless set).
        public let dueOn: CalendarDate
        /// Payment date, `nil` while unpaid.
        public let paidOn: CalendarDate?
    }

    /// A referral made by a customer (the one whose list holds it).
    public struct Referral: Hashable, Sendable {
        /// The date it happened.
        public let on: CalendarDate
    }

    /// A touchpoint with an NPS answer.
    public struct Rating: Hashable, Sendable {
        /// The customer it belongs to.
        public let customerID: String
        /// The date it happened.
        public let on: CalendarDate
        /// The NPS answer, 0–10.
        public let score: Int
    }

    /// Live customers by id.
    public internal(set) var customers: [String: Customer] = [:]
    /// Live purchases by customer id.
    public internal(set) var purchases: [String: [Purchase]] = [:]
    /// Live referrals by referring customer id.
    public internal(set) var referrals: [String: [Referral]] = [:]
    /// Live touchpoints that carry an NPS answer.
    public internal(set) var ratings: [Rating] = []
    /// Every customer with its history, when ``CustomerBookBuilder`` gathered them (it holds each
    /// customer's purchases and referrals side by side, so nothing needs looking up); `nil` once
    /// the book changes, and ``histories()`` then looks each customer up.
    var gathered: [(customer: Customer, history: History)]?

    /// An empty book.
    public init() {}

    /// One customer's live purchases and referrals: what classification and the metrics read.
    struct History {
        var purchases: [Purchase]
        var referrals: [Referral]
    }

    /// The history of customer `id`.
    func history(of id: String) -> History {
        History(purchases: purchases[id] ?? [], referrals: referrals[id] ?? [])
    }

    /// Every customer's history, each looked up once (or none, when the builder gathered them):
    /// a series of reports passes over every customer once per period, and then reads arrays
    /// instead of hashing ids.
    func histories() -> [History] {
        if let gathered { return gathered.map(\.history) }
        return customers.keys.map(history(of:))
    }

    /// Builds a book from record states (customers and activities in any order).
    public init(states: some Sequence<RecordState>) {
        for state in states { add(state) }
    }

    /// Every customer's history grouped by `key` of the customer: what a breakdown computes one
    /// group's metrics from. One pass over the customers, whatever the number of groups.
    func histories(groupedBy key: (Customer) -> String) -> [String: [History]] {
        var groups: [String: [History]] = [:]
        if let gathered {
            for (customer, history) in gathered { groups[key(customer), default: []].append(history) }
        } else {
            for (id, customer) in customers { groups[key(customer), default: []].append(history(of: id)) }
        }
        return groups
    }

    /// Adds one record state (ignored when deleted or incomplete).
    public mutating func add(_ state: RecordState) {
        guard !state.isDeleted else { return }
        add(InsightFacts(state))
    }

    /// Adds the facts of one record (ignored when deleted or incomplete).
    public mutating func add(_ facts: InsightFacts) {
        guard !facts.isDeleted else { return }
        gathered = nil
        let values = facts.values
        switch facts.kind {
        case .customer:
            // InsightFacts.customerFields: name, territory, owner, segment.
            customers[facts.id] = Customer(id: facts.id, name: values[0] ?? "", territory: values[1], owner: values[2], segment: values[3])
        case .activity:
            // InsightFacts.activityFields: customer_id, type, on, amount, margin, due_on, paid_on, nps.
            guard let customerID = values[0], let on = values[2].flatMap(CalendarDate.init) else { return }
            switch values[1] {
            case "purchase":
                guard let amount = values[3].flatMap(Money.init) else { return }
                let due = values[5].flatMap(CalendarDate.init) ?? on.adding(days: 30)
                purchases[customerID, default: []].append(
                    Purchase(
                        on: on, amount: amount, margin: values[4].flatMap(DecimalText.init),
                        dueOn: due, paidOn: values[6].flatMap(CalendarDate.init)))
            case "referral":
                referrals[customerID, default: []].append(Referral(on: on))
            case "touchpoint":
                if let score = values[7].flatMap({ Int($0) }) {
                    ratings.append(Rating(customerID: customerID, on: on, score: score))
                }
            default:
                break
            }
        }
    }
}
