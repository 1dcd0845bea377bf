import CXModel
import Foundation
@testable import CXClient

/// A small in-memory sync server for client tests: it keeps an append-only log of states with
/// sequence numbers, serves the latest state of each record in the user's scope page by page
/// (cursor `p<seq>`), accepts every pushed state in scope, and can fail one request.
final class MiniServer: SyncTransport, @unchecked Sendable {
    // Safe: every request is answered under `serving` (a sync may have two with the server, see
    // `pushesAhead`); tests read after `run` returns.
    private let serving = NSLock()
    private(set) var log: [(seq: Int, state: RecordState)] = []
    private var nextSeq = 10
    var territories: Set<String>
    var pageSize: Int
    /// Requests answered so far (failed ones included).
    private(set) var requests = 0
    /// The request number (1-based) that fails as if the connection dropped.
    var failAt: Int?
    /// Whether the failing request is processed (pushes applied) before its reply is lost,
    /// rather than never reaching the server.
    var losesReply = false
    /// Ids pushed, in order.
    private(set) var pushed: [String] = []
    /// Lists ``SyncReply/Feature/pushAhead`` and answers push-only requests without a page,
    /// checking sync tokens as the real server does (a request is admitted when the stored
    /// token is the one it presents or the one it proposes).
    var pushesAhead = false
    /// Push-only requests answered.
    private(set) var pushOnlyRequests = 0
    /// The replica ids requests came from.
    private(set) var replicaIDs: Set<String> = []
    /// The request number (1-based) answered `413` before anything of it is read.
    var tooLargeAt: Int?
    /// The request number (1-based) before which another copy of the cache synced (with
    /// ``pushesAhead``): the replica's stored token is one this cache never saw.
    var forkAt: Int?
    /// The stored sync token of each replica (with ``pushesAhead``).
    private var tokens: [String: String] = [:]
    /// Lists ``SyncReply/Feature/snapshot`` and answers snapshot requests (docs/sync-protocol.md
    /// §2a): the records in scope, customers then activities, each in id order, with cursors
    /// `s<through>:<position in that order>`.
    var offersSnapshots = false
    /// Snapshot pages answered.
    private(set) var snapshotPages = 0
    /// Called (under the server's lock) after each snapshot page is answered, with its number.
    var afterSnapshotPage: ((Int) -> Void)?
    /// Answers snapshot pages in reverse id order (a broken server).
    var snapshotsOutOfOrder = false

    init(territories: Set<String>, pageSize: Int, book: [RecordState]) {
        self.territories = territories
        self.pageSize = pageSize
        for state in book { append(state) }
    }

    private func append(_ state: RecordState) {
        log.append((nextSeq, state))
        nextSeq += 1
    }

    /// The latest state of each record and the sequence number it was last written at.
    var latest: [String: (seq: Int, state: RecordState)] {
        var result: [String: (seq: Int, state: RecordState)] = [:]
        for entry in log { result[entry.state.id] = entry }
        return result
    }

    /// Whether `state` is in the user's scope (activities: through their customer).
    func inScope(_ state: RecordState) -> Bool {
        if state.kind == .customer { return state.displayedValue("territory").map(territories.contains) ?? false }
        guard let customer = state.displayedValue("customer_id"), let owner = latest[customer]?.state else { return false }
        return inScope(owner)
    }

    /// The ids the user sees now.
    var book: Set<String> { Set(latest.values.filter { inScope($0.state) }.map(\.state.id)) }

    var scope: SyncScope { SyncScope(role: .rep, territories: territories.sorted()) }

    func sync(_ envelope: [UInt8]) async throws -> SyncResponse {
        try serving.withLock { try answer(envelope) }
    }

    private func answer(_ envelope: [UInt8]) throws -> SyncResponse {
        requests += 1
        if requests == tooLargeAt { throw PayloadTooLarge(detail: "request body too large (test: request \(requests))") }
        let fails = requests == failAt
        if fails && !losesReply { throw CXError(.unavailable, "cannot reach the server (test: request \(requests) fails)") }
        var raws: [[UInt8]] = []
        var cursorText: String?
        let request = try SyncEnvelope(reading: envelope)
        raws = request.changes
        cursorText = request.cursor
        replicaIDs.insert(request.replicaID)
        if pushesAhead, let next = request.nextSyncToken {
            if requests == forkAt { tokens[request.replicaID] = "token-of-another-copy" }
            if let stored = tokens[request.replicaID], stored != request.syncToken, stored != next {
                throw ReplicaForked(message: "replica has synced from another copy (test)")
            }
            tokens[request.replicaID] = next
        }
        var rejected: [SyncResponse.Rejection] = []
        for raw in raws {
            let state = try RecordState(jsonBytes: raw)
            pushed.append(state.id)
            guard inScope(state) else {
                rejected.append(.init(id: state.id, code: .outOfScope, message: "not in your territories"))
                continue
            }
            append(latest[state.id].map { $0.state.merging(state) } ?? state)
        }
        if fails { throw CXError(.unavailable, "the connection dropped before the reply (test: request \(requests))") }
        let features: [SyncReply.Feature] = (pushesAhead ? [.pushAhead] : []) + (offersSnapshots ? [.snapshot] : [])
        if request.snapshot, offersSnapshots {
            return snapshotPage(after: cursorText, features: features)
        }
        if request.pushOnly {
            pushOnlyRequests += 1
            return SyncResponse(changes: [], cursor: nil, hasMore: true, rejected: rejected, scope: scope, features: features)
        }
        let after = cursorText.flatMap { Int($0.dropFirst()) } ?? 0
        let visible = latest.values.filter { $0.seq > after && inScope($0.state) }.sorted { $0.seq < $1.seq }
        let page = visible.prefix(pageSize)
        let cursor = "p\(page.last?.seq ?? Swift.max(after, nextSeq - 1))"
        return SyncResponse(
            changes: page.map { $0.state.jsonBytes() }, cursor: cursor, hasMore: visible.count > pageSize,
            rejected: rejected, scope: scope, features: features)
    }

    /// A snapshot page after `cursor` (`s<through>:<records delivered>`; `nil` starts one).
    private func snapshotPage(after cursor: String?, features: [SyncReply.Feature]) -> SyncResponse {
        snapshotPages += 1
        defer { afterSnapshotPage?(snapshotPages) }
        var through = nextSeq - 1, delivered = 0
        if let cursor {
            let parts = cursor.dropFirst().split(separator: ":")
            through = Int(parts[0])!
            delivered = Int(parts[1])!
        }
        let inScope: [RecordState] = latest.values.map(\.state).filter { self.inScope($0) }
        var ordered = inScope.sorted { (a: RecordState, b: RecordState) -> Bool in
            if a.kind != b.kind { return a.kind == .customer }
            return a.id < b.id
        }
        if snapshotsOutOfOrder { ordered.reverse() }
        let page = ordered.dropFirst(delivered).prefix(pageSize)
        let goesOn = delivered + page.count < ordered.count
        return SyncResponse(
            changes: page.map { $0.jsonBytes() }, cursor: goesOn ? "s\(through):\(delivered + page.count)" : "p\(through)",
            hasMore: true, scope: scope, features: features, snapshot: goesOn)
    }
}
