/// Classifies customers as of a date T, first match wins:
/// 1. `lead` — no purchase on or before T;
/// 2. `bad_debt` — a purchase in (T−W, T] paid late (`due_on` + grace < `paid_on` ≤ T), or
///    unpaid at T (no `paid_on` ≤ T) with `due_on` + grace < T;
/// 3. `passer_by` — fewer than 2 purchases in (T−W, T];
/// 4. `prospect` — the revenue-weighted average margin of the purchases in (T−W, T] that carry
///    a margin is below target (purchases without a margin are left out; none → not a prospect);
/// 5. `advocate` — at least one referral in (T−W, T];
/// 6. `customer` — otherwise.
///
/// Credit notes and zero-value orders (docs/sql-guide.md §3): a "purchase" in the counts above
/// is an order, a purchase with amount ≥ 0 — a zero-value order counts, a credit note (amount
/// < 0) does not. Revenue is net: credit notes subtract on their own date. The margin average
/// is weighted over net amounts (credit notes with a margin weigh negatively); when the net
/// revenue carrying a margin is ≤ 0 there is no average, and the prospect rule does not apply.
/// Only purchases with amount > 0 can be paid late or overdue: a credit note has no due date
/// of its own and a zero-value order nothing to pay, and a credit note leaves the payment of
/// the purchase it credits as it is.
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
        /// Purchases in (T−W, T] (orders: credit notes do not count).
        public let purchasesInWindow: Int
        /// Net revenue in (T−W, T]: the purchases' amounts less the credit notes'.
        public let revenueInWindow: Money
        /// Credit notes in (T−W, T].
        public let creditNotesInWindow: Int
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

    /// The status of customer `id` in `book` as of `date` (the figures without the sentence:
    /// what metrics count for every customer).
    public func status(of id: String, in book: CustomerBook, asOf date: CalendarDate) -> CustomerStatus {
        figures(of: id, in: book, asOf: date).status
    }

    /// The status and the figures behind it.
    public func assess(_ id: String, in book: CustomerBook, asOf t: CalendarDate) -> Assessment {
        let figures = figures(of: id, in: book, asOf: t)
        return Assessment(
            status: figures.status, purchasesInWindow: figures.purchases, revenueInWindow: Money(cents: figures.revenueCents),
            creditNotesInWindow: figures.creditNotes,
            weightedMargin: figures.weightedMargin, latePurchases: figures.late, overdueAmount: Money(cents: figures.overdueCents),
            referralsInWindow: figures.referrals, reason: reason(figures))
    }

    /// What the rules read of one customer as of T, gathered in one pass over its purchases.
    struct Figures {
        var anyPurchase = false
        var purchases = 0
        var creditNotes = 0
        var revenueCents: Int64 = 0
        var marginRevenue: Int64 = 0
        var marginWeighted: Int64 = 0
        var late = 0
        var overdueCents: Int64 = 0
        var referrals = 0
        var status = CustomerStatus.lead

        /// Revenue-weighted margin of the purchases with one, rounded to four places half away
        /// from zero, as `cx.customer_status_at` shows it.
        var weightedMargin: DecimalText? {
            marginRevenue > 0 ? DecimalText(tenThousandths: ScaledDecimal.divideRounded(marginWeighted, marginRevenue)) : nil
        }
    }

    func figures(of id: String, in book: CustomerBook, asOf t: CalendarDate) -> Figures {
        figures(of: book.history(of: id), asOf: t)
    }

    /// The figures of one customer's history as of T.
    func figures(of history: CustomerBook.History, asOf t: CalendarDate) -> Figures {
        var figures = Figures()
        let windowStart = t.adding(days: -settings.windowDays)  // exclusive
        let grace = settings.graceDays
        for purchase in history.purchases where purchase.on <= t {
            let isOrder = !purchase.amount.isNegative
            if isOrder { figures.anyPurchase = true }
            guard purchase.on > windowStart else { continue }
            if isOrder { figures.purchases += 1 } else { figures.creditNotes += 1 }
            figures.revenueCents += purchase.amount.cents
            if let margin = purchase.margin {
                figures.marginRevenue += purchase.amount.cents
                figures.marginWeighted += purchase.amount.cents * margin.tenThousandths
            }
            // Only an amount owed can be paid late: not a credit note's, not a zero-value order's.
            guard purchase.amount.isPositive else { continue }
            let deadline = purchase.dueOn.adding(days: grace)
            if let paid = purchase.paidOn, paid <= t {
                if deadline < paid { figures.late += 1 }
            } else if deadline < t {
                figures.late += 1
                figures.overdueCents += purchase.amount.cents
            }
        }
        for referral in history.referrals where referral.on > windowStart && referral.on <= t { figures.referrals += 1 }
        figures.status =
            if !figures.anyPurchase { .lead }
            else if figures.late > 0 { .badDebt }
            else if figures.purchases < 2 { .passerBy }
            else if figures.marginRevenue > 0, figures.marginWeighted < settings.targetMargin.tenThousandths * figures.marginRevenue { .prospect }
            else if figures.referrals > 0 { .advocate }
            else { .customer }
        return figures
    }

    /// A sentence explaining the status.
    private func reason(_ figures: Figures) -> String {
        let reason = statusReason(figures)
        guard figures.status != .lead, figures.creditNotes > 0 else { return reason }
        let notes = figures.creditNotes
        return reason + " (\(notes) credit note\(notes == 1 ? "" : "s"), net revenue \(Money(cents: figures.revenueCents)))"
    }

    private func statusReason(_ figures: Figures) -> String {
        let window = "in the last \(settings.windowDays) days"
        let count = figures.purchases
        switch figures.status {
        case .lead:
            return "no purchase yet"
        case .badDebt:
            let overdue = Money(cents: figures.overdueCents)
            let owed = overdue.isPositive ? ", \(overdue) overdue" : ""
            return "\(figures.late) purchase\(figures.late == 1 ? "" : "s") paid late or overdue \(window)\(owed)"
        case .passerBy:
            return "\(count) purchase\(count == 1 ? "" : "s") \(window)"
        case .prospect:
            return "\(count) purchases \(window), margin \(Self.percent(figures.weightedMargin!)) below target \(Self.percent(settings.targetMargin))"
        case .advocate, .customer:
            let marginText = figures.weightedMargin.map { ", margin \(Self.percent($0))" } ?? ""
            if figures.status == .advocate {
                let referrals = figures.referrals
                return "\(count) purchases \(window)\(marginText), paid on time, \(referrals) referral\(referrals == 1 ? "" : "s")"
            }
            return "\(count) purchases \(window)\(marginText), paid on time"
        }
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
