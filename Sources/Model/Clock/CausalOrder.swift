/// How two version vectors relate in causal (happened-before) order.
public enum CausalOrder: String, Hashable, Sendable {
    /// Both have seen exactly the same writes.
    case equal
    /// The left side has seen a strict subset of the right side's writes.
    case before
    /// The left side has seen a strict superset of the right side's writes.
    case after
    /// Each side has seen a write the other has not.
    case concurrent
}
