/// The two JSON forms of a record state (docs/sync-protocol.md §6). Both carry the same state;
/// every reader accepts both, writers choose.
public enum StateFormat: Sendable, Hashable {
    /// The first format: every field entry spells out its dot, ISO time and user. Written
    /// only for peers that predate the compact form (a server that does not list
    /// ``SyncReply/Feature/compactStates``, a client that did not ask for them).
    case expanded
    /// `"v":2`: each write's replica, time and user stored once in `writes` and referred to by
    /// index, times as milliseconds, replicas listed once. About a third of the expanded size
    /// for a record written once, and read without parsing a single timestamp.
    case compact
}
