import CXModel
import HTTPTypes

/// A decoded and checked `POST /v1/sync` body (read as a ``SyncEnvelope``):
/// `{"replica_id": "…", "cursor": "…" | null, "changes": [state…], "limit": 1000}`.
///
/// The envelope is all or nothing (a syntax error anywhere is a 400), but each pushed state is
/// judged on its own: one that does not decode, breaks an invariant, exceeds ``StateLimits`` or
/// is incomplete goes to ``rejected`` and the others are still written.
struct SyncRequest: Sendable {
    var replicaID: String
    var cursor: SyncCursor.Position
    /// The states that decoded and are complete, to be merged.
    var changes: [RecordState]
    var limit: Int
    /// The pushed states refused while reading the request, in request order.
    var rejected: [RecordRejection] = []
    /// The replica's sync token and its proposed successor (see ``ReplicaRegistry``).
    var syncToken: String? = nil
    var nextSyncToken: String? = nil
    /// The client asked for the states this request writes exactly as sent to be left out of
    /// the page (``SyncEnvelope/omitsEchoes``).
    var omitsEchoes = false
    /// The client reads compact states (``SyncEnvelope/wantsCompactStates``); others get the
    /// page in the expanded form.
    var wantsCompactStates = false
    /// Push, and answer without a page (``SyncEnvelope/pushOnly``).
    var pushOnly = false
    /// Receipts of the client's push-only requests (``SyncEnvelope/echoReceipts``), read.
    var echoReceipts: [EchoSequences] = []
    /// A snapshot request: ``SyncEnvelope/snapshot`` without a cursor, or a snapshot cursor;
    /// ``cursor`` is then unused.
    var isSnapshot = false
    /// Where a snapshot request goes on from (`nil`: its start).
    var snapshotPosition: SnapshotCursor.Position?

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
        /// Most sequence numbers one request's ``SyncEnvelope/echoReceipts`` are used for (a
        /// pull reads past that many rows at most besides its page); receipts past it are left
        /// aside.
        var maxEchoedSequences: Int64 = 1_000_000
    }

    /// Parses and validates a request body; every problem with the envelope is an
    /// ``APIError`` (400 or 413); problems with one pushed state are in ``rejected``.
    static func parse(_ body: [UInt8], limits: Limits) throws(APIError) -> SyncRequest {
        // The pushed states are split by their brackets and each is then read in full (which
        // checks its syntax), on both cores; checking every state's syntax first as well took
        // a third of the request's reading, on one core. When a state fails to read, the body
        // is checked in full once: a syntax error anywhere is still the whole request's 400.
        let envelope = try readEnvelope(body, checkingChanges: false, limits: limits)
        let reads = readStates(envelope.changes)
        if reads.contains(where: \.isUnreadable) { _ = try readEnvelope(body, checkingChanges: true, limits: limits) }
        var states: [RecordState] = []
        var rejected: [RecordRejection] = []
        for read in reads {
            switch read {
            case .state(let state): states.append(state)
            case .rejected(let rejection), .unreadable(let rejection): rejected.append(rejection)
            }
        }
        let sentReplicaID = envelope.replicaID
        let (limit, syncToken, nextSyncToken) = (envelope.limit.map { Int64($0) }, envelope.syncToken, envelope.nextSyncToken)
        // One spelling per identity: the replica id is used in NFC, as in the pushed states.
        let replicaID = UnicodeNormalization.nfc(sentReplicaID)
        guard ReplicaID.isValid(sentReplicaID), ReplicaID.isValid(replicaID) else {
            throw .badRequest("invalid_replica_id", "replica_id must be 1–\(ReplicaID.maximumLength) bytes without control characters")
        }
        let requestedLimit = limit ?? Int64(limits.defaultPullLimit)
        guard requestedLimit >= 1 else { throw .badRequest("invalid_limit", "limit must be at least 1") }
        for token in [syncToken, nextSyncToken] {
            if let token, token.isEmpty || token.utf8.count > 64 || !token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
                throw .badRequest("invalid_sync_token", "sync tokens are 1–64 printable ASCII characters")
            }
        }
        // A snapshot cursor goes on with its snapshot; `snapshot` with no cursor begins one; with
        // a regular cursor the flag asks for nothing more than the page after it (§2a).
        let isSnapshot = envelope.cursor.map(SnapshotCursor.isSnapshotCursor) ?? envelope.snapshot
        let snapshotPosition = isSnapshot ? try SnapshotCursor.parse(envelope.cursor) : nil
        return SyncRequest(
            replicaID: replicaID, cursor: isSnapshot ? SyncCursor.Position(sequence: 0, epoch: nil) : try SyncCursor.parse(envelope.cursor),
            changes: states,
            limit: Int(min(requestedLimit, Int64(limits.maxPullLimit))), rejected: rejected, syncToken: syncToken,
            nextSyncToken: nextSyncToken, omitsEchoes: envelope.omitsEchoes, wantsCompactStates: envelope.wantsCompactStates,
            pushOnly: envelope.pushOnly, echoReceipts: usableReceipts(envelope.echoReceipts, limits: limits),
            isSnapshot: isSnapshot, snapshotPosition: snapshotPosition)
    }

    /// The receipts of `receipts` this server can use: ones it did not issue are left aside,
    /// and so are those past ``Limits/maxEchoedSequences`` changes in all. A receipt only
    /// spares the client states it holds; without it the page holds them.
    private static func usableReceipts(_ receipts: [EchoReceipt], limits: Limits) -> [EchoSequences] {
        var usable: [EchoSequences] = []
        var count: Int64 = 0
        for receipt in receipts {
            guard let sequences = EchoSequences(parsing: receipt), count + sequences.count <= limits.maxEchoedSequences else { continue }
            count += sequences.count
            usable.append(sequences)
        }
        return usable
    }

    /// The envelope of `body`, its `changes` split (see ``SyncEnvelope/init(reading:maximumChanges:checkingChanges:change:)``);
    /// a body that is not one is the request's 400 or 413.
    private static func readEnvelope(_ body: [UInt8], checkingChanges: Bool, limits: Limits) throws(APIError) -> SyncEnvelope {
        do throws(SyncEnvelope.ReadError) {
            return try SyncEnvelope(reading: body, maximumChanges: limits.maxChanges, checkingChanges: checkingChanges)
        } catch {
            switch error {
            case .tooManyChanges(let maximum):
                throw APIError(
                    .contentTooLarge, code: "too_many_changes",
                    message: "a request may push at most \(maximum) records; push in batches")
            case .unknownField(let failure):
                throw .badRequest("unknown_field", failure.description)
            case .malformed(let failure):
                throw .badRequest("malformed_json", "request body is not a valid sync request: \(failure.description)")
            case .missingReplicaID:
                throw .badRequest("missing_field", "replica_id is required")
            }
        }
    }

    /// One pushed state as read: the state, or why it is refused — `unreadable` when it did
    /// not decode (its syntax, unchecked until then, may be what is wrong).
    private enum ReadState {
        case state(RecordState)
        case rejected(RecordRejection)
        case unreadable(RecordRejection)

        var isUnreadable: Bool {
            if case .unreadable = self { return true }
            return false
        }
    }

    /// Reads every pushed state, in order; a large batch on two cores at once (its states are
    /// independent, and the request waits for them with nothing else to do).
    private static func readStates(_ raws: [[UInt8]]) -> [ReadState] {
        ParallelMap.map(raws, workers: raws.count >= 64 ? 2 : 1, readState)
    }

    /// Reads one pushed state (exactly one JSON value: the envelope checked it).
    private static func readState(_ raw: [UInt8]) -> ReadState {
        raw.withUnsafeBufferPointer { buffer in
            var element = JSONScanner(buffer)
            return readState(&element)
        }
    }

    /// Reads one pushed state from a scanner over exactly its JSON value.
    private static func readState(_ element: inout JSONScanner) -> ReadState {
        let start = element
        let state: RecordState
        do throws(StateDecodingError) {
            // Values stored under earlier rules travel on; new writes are held to today's length
            // limits once the stored state is known (RecordStore.push).
            state = try RecordState(reading: &element, values: .pushed)
            do throws(JSONScanner.Failure) {
                try element.expectEnd()
            } catch {
                throw StateDecodingError(recordID: state.id, "malformed JSON: \(error)", syntaxError: error)
            }
        } catch {
            var id = error.recordID ?? ""
            if error.recordID == nil {
                var idScanner = start
                if let sent = idScanner.topLevelString("id") { id = String(sent.unicodeScalars.prefix(100)) }
            }
            let advice =
                error.code == .tooManyEntries
                ? "; resolve the record's conflicts on a replica that holds it, then sync again"
                : "; the record was not written — fix or re-create it on the replica that sent it"
            return .unreadable(RecordRejection(id: id, code: error.code, message: error.message + advice))
        }
        do throws(RecordValidationError) {
            try state.validateRequiredFields()
        } catch {
            return .rejected(
                RecordRejection(
                    id: state.id, code: .incompleteRecord,
                    message: "record \(state.id) is incomplete: \(error.description); set the missing field with cx edit and sync again"))
        }
        if let refusal = RecordStore.creditNoteRefusal(state, merged: false) { return .rejected(refusal) }
        return .state(state)
    }
}

/// The opaque pull cursor: `c<sequence>.<epoch>`, the last change sequence number the client
/// has and the epoch of the database that numbered it (``ServerEpoch``). Cursors from servers
/// before epochs (`c<sequence>`) are still accepted.
enum SyncCursor {
    /// A parsed cursor.
    struct Position: Sendable, Equatable {
        var sequence: Int64
        var epoch: String?
    }

    /// Parses `c<digits>` optionally followed by `.<12 hex digits>`: no sign, no leading zeros.
    static func parse(_ text: String?) throws(APIError) -> Position {
        guard let text else { return Position(sequence: 0, epoch: nil) }
        let invalid = APIError.badRequest(
            "invalid_cursor", "cursor '\(text)' was not issued by this server; send null to pull from the start")
        let parts = text.utf8.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard let number = parts.first, number.first == UInt8(ascii: "c") else { throw invalid }
        let digits = number.dropFirst()
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            digits.first != UInt8(ascii: "0") || digits.count == 1,
            let sequence = Int64(String(decoding: digits, as: UTF8.self))
        else { throw invalid }
        var epoch: String?
        if parts.count == 2 {
            let hex = parts[1]
            guard hex.count == 12, hex.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) })
            else { throw invalid }
            epoch = String(decoding: hex, as: UTF8.self)
        }
        return Position(sequence: sequence, epoch: epoch)
    }

    static func format(_ sequence: Int64, epoch: String) -> String {
        "c\(sequence).\(epoch)"
    }
}
