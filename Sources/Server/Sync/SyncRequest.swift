import CXModel
import HTTPTypes

/// A decoded `POST /v1/sync` body:
/// `{"replica_id": "…", "cursor": "…" | null, "changes": [state…], "limit": 1000}`.
struct SyncRequest: Sendable {
    var replicaID: String
    var cursor: Int64
    var changes: [RecordState]
    var limit: Int
    /// The replica's sync token and its proposed successor (see ``ReplicaRegistry``).
    var syncToken: String? = nil
    var nextSyncToken: String? = nil

    /// The replica part, for ``ReplicaRegistry/admit(_:by:on:)``.
    var claim: ReplicaRegistry.Claim {
        ReplicaRegistry.Claim(replicaID: replicaID, token: syncToken, nextToken: nextSyncToken)
    }

    /// The limits a request must respect.
    struct Limits: Sendable {
        /// Most record states one request may push.
        var maxChanges = 5_000
        /// Most changes one response may carry; larger `limit`s are lowered to this.
        var maxPullLimit = 5_000
        /// `limit` when the request gives none.
        var defaultPullLimit = 1_000
    }

    /// Parses and validates a request body; every problem is an ``APIError`` (400, 413 or 422).
    static func parse(_ body: [UInt8], limits: Limits) throws(APIError) -> SyncRequest {
        var replicaID: String?
        var cursorText: String?
        var states: [RecordState] = []
        var limit: Int64?
        var syncToken: String?
        var nextSyncToken: String?
        var invalid: StateDecodingError?
        var changeCount = 0
        do throws(JSONScanner.Failure) {
            try JSONScanner.scan(body) { scanner throws(JSONScanner.Failure) in
                try scanner.object { scanner, key throws(JSONScanner.Failure) in
                    switch key {
                    case "replica_id": replicaID = try scanner.string()
                    case "cursor": cursorText = try scanner.consumeNull() ? nil : try scanner.string()
                    case "limit": limit = try scanner.integer()
                    case "sync_token": syncToken = try scanner.consumeNull() ? nil : try scanner.string()
                    case "next_sync_token": nextSyncToken = try scanner.consumeNull() ? nil : try scanner.string()
                    case "changes":
                        try scanner.array { scanner throws(JSONScanner.Failure) in
                            changeCount += 1
                            guard changeCount <= limits.maxChanges else {
                                throw scanner.failure("too many changes")
                            }
                            do throws(StateDecodingError) {
                                states.append(try RecordState(reading: &scanner))
                            } catch {
                                if let syntaxError = error.syntaxError { throw syntaxError }
                                // Keep reading so the response can name the first bad record
                                // while nothing at all is written.
                                if invalid == nil { invalid = error }
                            }
                        }
                    default:
                        throw scanner.failure("unknown field '\(key)'; expected replica_id, cursor, changes, limit, sync_token, next_sync_token")
                    }
                }
                try scanner.expectEnd()
            }
        } catch {
            if error.message == "too many changes" {
                throw APIError(
                    .contentTooLarge, code: "too_many_changes",
                    message: "a request may push at most \(limits.maxChanges) records; push in batches")
            }
            if error.message.hasPrefix("unknown field") {
                throw .badRequest("unknown_field", error.description)
            }
            throw .badRequest("malformed_json", "request body is not a valid sync request: \(error.description)")
        }
        if let invalid {
            throw APIError(.unprocessableContent, code: "invalid_record", message: invalid.description)
        }
        guard let replicaID else { throw .badRequest("missing_field", "replica_id is required") }
        guard ReplicaID.isValid(replicaID) else {
            throw .badRequest("invalid_replica_id", "replica_id must be 1–\(ReplicaID.maximumLength) bytes without control characters")
        }
        for state in states {
            do throws(ValidationError) {
                try state.validateComplete()
            } catch {
                throw APIError(
                    .unprocessableContent, code: "invalid_record", message: "record \(state.id) is incomplete: \(error.description)")
            }
        }
        let requestedLimit = limit ?? Int64(limits.defaultPullLimit)
        guard requestedLimit >= 1 else { throw .badRequest("invalid_limit", "limit must be at least 1") }
        for token in [syncToken, nextSyncToken] {
            if let token, token.isEmpty || token.utf8.count > 64 || !token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
                throw .badRequest("invalid_sync_token", "sync tokens are 1–64 printable ASCII characters")
            }
        }
        return SyncRequest(
            replicaID: replicaID, cursor: try SyncCursor.parse(cursorText), changes: states,
            limit: Int(min(requestedLimit, Int64(limits.maxPullLimit))), syncToken: syncToken, nextSyncToken: nextSyncToken)
    }
}

/// The opaque pull cursor: `c` followed by the last change sequence number the client has.
enum SyncCursor {
    static func parse(_ text: String?) throws(APIError) -> Int64 {
        guard let text else { return 0 }
        guard text.hasPrefix("c"), let value = Int64(text.dropFirst()), value >= 0 else {
            throw .badRequest("invalid_cursor", "cursor '\(text)' was not issued by this server; send null to pull from the start")
        }
        return value
    }

    static func format(_ sequence: Int64) -> String {
        "c\(sequence)"
    }
}
