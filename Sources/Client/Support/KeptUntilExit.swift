/// Values a command keeps until its process exits instead of freeing them when it is done.
///
/// A report's book holds about 600,000 small arrays and strings; releasing them one by one when
/// the command returns costs a tenth of a second of a one-second report, work the operating
/// system does at once (and for free) when the process exits. Only for what a command reads
/// once and holds until it ends.
enum KeptUntilExit {
    /// Keeps `value` alive until the process exits.
    static func keep(_ value: some Sendable) {
        // One deliberate retain with no release: the box is never freed.
        _ = Unmanaged.passRetained(Box(value))
    }

    private final class Box<Value: Sendable>: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }
}
