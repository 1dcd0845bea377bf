/// The two kinds of record cx keeps; both share one state format and one merge.
public enum RecordKind: String, Hashable, Sendable, CaseIterable {
    /// A person or company the team sells to.
    case customer
    /// Something that happened with a customer: a purchase, a referral or a touchpoint.
    case activity
}
