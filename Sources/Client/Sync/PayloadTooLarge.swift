import CXModel

/// The server refused a sync request because its body exceeds the server's limit (HTTP 413,
/// `cx-server serve --max-body-bytes`).
///
/// ``SyncEngine`` answers it by halving the batch and retrying; a single state the server
/// still refuses is reported (``rejection(id:bytes:)``) and skipped, so one oversized record
/// never blocks the others. Transports may throw this type; ``matches(_:)`` also recognises
/// the generic HTTP 413 error of ``SyncClient``.
public struct PayloadTooLarge: Error, CustomStringConvertible, Sendable {
    /// The server's explanation, when it gave one.
    public var detail: String

    public init(detail: String = "request body too large") {
        self.detail = detail
    }

    public var description: String { "the server refused the request as too large: \(detail)" }

    /// The refusal code `cx sync` reports for a state too large to push on its own.
    public static let code = "record_too_large"

    /// Whether `error` says the request body was too large.
    public static func matches(_ error: any Error) -> Bool {
        switch error {
        case is PayloadTooLarge:
            return true
        case let error as CXError:
            return error.message.hasPrefix("the server answered HTTP 413")
        default:
            return false
        }
    }

    /// The report entry for a record whose state alone exceeds the server's limit.
    static func rejection(id: String, bytes: Int) -> SyncResponse.Rejection {
        SyncResponse.Rejection(
            id: id, code: code,
            message: "its state (\(bytes) bytes) is larger than the server accepts in one request; it stays pending")
    }
}
