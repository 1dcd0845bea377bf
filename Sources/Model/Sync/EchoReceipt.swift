/// What a push that pulled nothing (``SyncEnvelope/pushOnly``) left exactly as sent, so that a
/// later pull of the same sync can leave those states out (docs/sync-protocol.md §4c). Opaque
/// to clients: a string the server issues and reads back.
///
/// A push's own echoes are left out of its own page (``SyncEnvelope/omitsEchoes``); a push that
/// goes ahead of another request's answer pulls nothing, so its echoes would come back in a
/// later page. The server answers such a push with its receipt, and the client hands the
/// receipts of its sync back with its next pulls (``SyncEnvelope/echoReceipts``). The server
/// names each state by the sequence number the push gave it: a state changed since by anyone
/// has another number, and is delivered.
public struct EchoReceipt: RawRepresentable, Sendable, Hashable {
    public var rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }
}
