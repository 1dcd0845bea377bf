import CXModel

/// Exists for fuzzing (`Sources/Fuzz/FuzzSyncEnvelope`, `scripts/fuzz`): ``SyncRequest`` is
/// internal, so this is its parser's one package-visible door.
package enum SyncRequestFuzzing {
    /// Parses `body` as a `POST /v1/sync` request with the default limits and checks the
    /// parser's promises, trapping when one is broken: errors are 400 or 413 with a code, the
    /// limit is within bounds, no more states than allowed, every accepted state is complete
    /// and re-encodes canonically, and the receipts used are within their limit and round-trip. Returns whether the envelope was accepted.
    package static func check(_ body: [UInt8]) -> Bool {
        let limits = SyncRequest.Limits()
        let request: SyncRequest
        do {
            request = try SyncRequest.parse(body, limits: limits)
        } catch {
            precondition(error.status.code == 400 || error.status.code == 413, "a sync request refused with \(error.status)")
            precondition(!error.code.isEmpty, "an error without a code")
            return false
        }
        precondition(request.limit >= 1 && request.limit <= limits.maxPullLimit, "limit \(request.limit) out of bounds")
        precondition(request.changes.count + request.rejected.count <= limits.maxChanges, "more states than allowed")
        precondition(request.cursor.sequence >= 0, "a negative cursor")
        precondition(ReplicaID.isValid(request.replicaID), "an invalid replica id accepted")
        for state in request.changes {
            precondition((try? state.validateComplete()) != nil, "an incomplete state accepted")
            precondition((try? RecordState(jsonBytes: state.jsonBytes())) == state, "an accepted state does not round-trip")
        }
        for rejection in request.rejected { precondition(!rejection.code.rawValue.isEmpty, "a rejection without a code") }
        precondition(request.echoReceipts.reduce(0) { $0 + $1.count } <= limits.maxEchoedSequences, "receipts past the limit used")
        for receipt in request.echoReceipts {
            precondition(EchoSequences(parsing: receipt.receipt) == receipt, "a receipt does not round-trip")
        }
        return true
    }
}
