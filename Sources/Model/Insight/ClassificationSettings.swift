/// The knobs of customer classification and the customer-base metrics.
///
/// The same keys are read by `cx` (config file) and by PostgreSQL (`cx.settings`), so a laptop
/// and the central team classify with the same rules.
public struct ClassificationSettings: Hashable, Sendable {
    /// The look-back window W in days (`window_days`, default 365).
    public var windowDays: Int
    /// The target gross margin (`target_margin`, default 0.10).
    public var targetMargin: DecimalText
    /// Days a payment may be late before it counts as bad debt (`grace_days`, default 0).
    public var graceDays: Int

    /// The defaults: W = 365 days, target margin 10%, no grace.
    public static let `default` = ClassificationSettings(windowDays: 365, targetMargin: DecimalText(tenThousandths: 1000), graceDays: 0)

    /// Creates settings.
    public init(windowDays: Int, targetMargin: DecimalText, graceDays: Int) {
        self.windowDays = windowDays
        self.targetMargin = targetMargin
        self.graceDays = graceDays
    }
}
