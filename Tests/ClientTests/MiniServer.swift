import CXModel
@testable import CXClient

/// A small in-memory sync server for client tests: it keeps an append-only log of states with
/// sequence numbers, serves the latest state of each record in the user's scope page by page
/// (cursor `p<seq>`), accepts every pushed state in scope, and can fail one request.
final class MiniServer: SyncTransport, @unchecked Sendable {
    // Safe: the engine calls `sync` sequentially from one task; tests read after `run` returns.
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
        requests += 1
        let fails = requests == failAt
        if fails && !losesReply { throw CXError(.unavailable, "cannot reach the server (test: request \(requests) fails)") }
        var raws: [[UInt8]] = []
        var cursorText: String?
        try JSONScanner.scan(envelope) { scanner throws(JSONScanner.Failure) in
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                switch key {
                case "changes": try scanner.array { scanner throws(JSONScanner.Failure) in raws.append(try scanner.rawValue()) }
                case "cursor": cursorText = try scanner.consumeNull() ? nil : scanner.string()
                default: try scanner.skipValue()
                }
            }
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
        let after = cursorText.flatMap { Int($0.dropFirst()) } ?? 0
        let visible = latest.values.filter { $0.seq > after && inScope($0.state) }.sorted { $0.seq < $1.seq }
        let page = visible.prefix(pageSize)
        let cursor = "p\(page.last?.seq ?? Swift.max(after, nextSeq - 1))"
        return SyncResponse(
            changes: page.map { $0.state.jsonBytes() }, cursor: cursor, hasMore: visible.count > pageSize,
            rejected: rejected, scope: scope)
    }
}
