import CXModel

/// The server refused a sync request because its body exceeds the server's limit (HTTP 413:
/// `body_too_large`, `cx-server serve --max-body-bytes`, or `too_many_changes`). ``SyncClient``
/// throws it for every 413; other transports (tests) may too.
///
/// ``SyncEngine`` answers it by halving the batch and retrying; a single state the server
/// still refuses is reported (``rejection(id:bytes:)``) and skipped, so one oversized record
/// never blocks the others.
public struct PayloadTooLarge: Error, CustomStringConvertible, Sendable {
    /// The server's explanation, when it gave one.
    public var detail: String

    public init(detail: String = "request body too large") {
        self.detail = detail
    }

    public var description: String { "the server refused the request as too large: \(detail)" }

    /// The refusal code `cx sync` reports for a state too large to push on its own.
    public static let code = RecordRejection.Code.recordTooLarge

    /// The report entry for a record whose state alone exceeds the server's limit.
    static func rejection(id: String, bytes: Int) -> RecordRejection {
        RecordRejection(
            id: id, code: code,
            message: "its state (\(bytes) bytes) is larger than the server accepts in one request; it stays pending")
    }
}
