/// Classifies customers as of a date T, first match wins:
/// 1. `lead` — no purchase on or before T;
/// 2. `bad_debt` — a purchase in (T−W, T] paid late (`due_on` + grace < `paid_on` ≤ T), or
///    unpaid at T (no `paid_on` ≤ T) with `due_on` + grace < T;
/// 3. `passer_by` — fewer than 2 purchases in (T−W, T];
/// 4. `prospect` — the revenue-weighted average margin of the purchases in (T−W, T] that carry
///    a margin is below target (purchases without a margin are left out; none → not a prospect);
/// 5. `advocate` — at least one referral in (T−W, T];
/// 6. `customer` — otherwise.
public struct CustomerClassifier: Sendable {
    /// The rules' parameters.
    public let settings: ClassificationSettings

    /// Creates a classifier.
    public init(settings: ClassificationSettings = .default) {
        self.settings = settings
    }

    /// Why a customer has its status, in numbers.
    public struct Assessment: Hashable, Sendable {
        /// The classification.
        public let status: CustomerStatus
        /// Purchases in (T−W, T].
        public let purchasesInWindow: Int
        /// Revenue of those purchases.
        public let revenueInWindow: Money
        /// Revenue-weighted margin of those purchases with a margin, in ten-thousandths.
        public let weightedMargin: DecimalText?
        /// Late or overdue purchases in the window.
        public let latePurchases: Int
        /// Amount still owed on overdue purchases at T.
        public let overdueAmount: Money
        /// Referrals in the window.
        public let referralsInWindow: Int
        /// A sentence explaining the status.
        public let reason: String
    }

    /// The status of customer `id` in `book` as of `date`.
    public func status(of id: String, in book: CustomerBook, asOf date: CalendarDate) -> CustomerStatus {
        assess(id, in: book, asOf: date).status
    }

    /// The status and the figures behind it.
    public func assess(_ id: String, in book: CustomerBook, asOf t: CalendarDate) -> Assessment {
        let all = (book.purchases[id] ?? []).filter { $0.on <= t }
        let windowStart = t.adding(days: -settings.windowDays)  // exclusive
        let inWindow = all.filter { $0.on > windowStart }
        let revenue = inWindow.reduce(Money.zero) { $0 + $1.amount }
        let withMargin = inWindow.filter { $0.margin != nil }
        let marginRevenue = withMargin.reduce(Int64(0)) { $0 + $1.amount.cents }
        let marginWeighted = withMargin.reduce(Int64(0)) { $0 + $1.amount.cents * $1.margin!.tenThousandths }
        // Rounded to four places half away from zero, as `cx.customer_status_at` shows it.
        let weighted = marginRevenue > 0 ? DecimalText(tenThousandths: ScaledDecimal.divideRounded(marginWeighted, marginRevenue)) : nil
        let grace = settings.graceDays
        var late = 0
        var overdue = Money.zero
        for purchase in inWindow {
            let deadline = purchase.dueOn.adding(days: grace)
            if let paid = purchase.paidOn, paid <= t {
                if deadline < paid { late += 1 }
            } else if deadline < t {
                late += 1
                overdue = overdue + purchase.amount
            }
        }
        let referrals = (book.referrals[id] ?? []).filter { $0.on > windowStart && $0.on <= t }.count
        let window = "in the last \(settings.windowDays) days"

        func assessment(_ status: CustomerStatus, _ reason: String) -> Assessment {
            Assessment(
                status: status, purchasesInWindow: inWindow.count, revenueInWindow: revenue, weightedMargin: weighted,
                latePurchases: late, overdueAmount: overdue, referralsInWindow: referrals, reason: reason)
        }
        if all.isEmpty { return assessment(.lead, "no purchase yet") }
        if late > 0 {
            let owed = overdue.isPositive ? ", \(overdue) overdue" : ""
            return assessment(.badDebt, "\(late) purchase\(late == 1 ? "" : "s") paid late or overdue \(window)\(owed)")
        }
        if inWindow.count < 2 {
            return assessment(.passerBy, "\(inWindow.count) purchase\(inWindow.count == 1 ? "" : "s") \(window)")
        }
        let target = settings.targetMargin
        if let weighted, marginWeighted < target.tenThousandths * marginRevenue {
            return assessment(
                .prospect,
                "\(inWindow.count) purchases \(window), margin \(Self.percent(weighted)) below target \(Self.percent(target))")
        }
        let marginText = weighted.map { ", margin \(Self.percent($0))" } ?? ""
        if referrals > 0 {
            return assessment(
                .advocate,
                "\(inWindow.count) purchases \(window)\(marginText), paid on time, \(referrals) referral\(referrals == 1 ? "" : "s")")
        }
        return assessment(.customer, "\(inWindow.count) purchases \(window)\(marginText), paid on time")
    }

    /// `0.075` → `7.5%`.
    static func percent(_ value: DecimalText) -> String {
        let hundredths = value.tenThousandths  // percent × 100
        let whole = hundredths / 100, fraction = abs(hundredths % 100)
        var text = (hundredths < 0 && whole == 0 ? "-" : "") + String(whole)
        if fraction != 0 {
            var digits = fraction < 10 ? "0\(fraction)" : "\(fraction)"
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text + "%"
    }
}
