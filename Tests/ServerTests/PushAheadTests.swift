import CXModel
import Foundation
import HummingbirdTesting
import Testing

@testable import CXServer

/// Pushes ahead (docs/sync-protocol.md §4c): a `push_only` request writes and answers without a
/// page, with a receipt of what it left exactly as sent; a later pull handed the receipt leaves
/// those states out — only while nobody changed them — and its cursor moves past them. Two
/// requests under the same tokens are admitted in either order.
@Suite(.serverDatabase) struct PushAheadTests {
    /// A request body from the contract's own envelope.
    static func body(
        _ states: [RecordState], replica: String = "laptop-a", token: String? = nil, next: String? = nil, cursor: String? = nil,
        pushOnly: Bool = false, receipts: [EchoReceipt] = []
    ) -> String {
        let envelope = SyncEnvelope(
            replicaID: replica, syncToken: token, nextSyncToken: next, cursor: cursor, changes: states.map { $0.jsonBytes(.compact) },
            omitsEchoes: true, wantsCompactStates: true, pushOnly: pushOnly, echoReceipts: receipts)
        return String(decoding: envelope.jsonBytes(), as: UTF8.self)
    }

    static func reply(_ response: TestResponse) throws -> SyncReply {
        #expect(response.status == .ok, "\(response.text)")
        return try SyncReply(parsing: Array(response.text.utf8))
    }

    @Test func aPushOnlyRequestAnswersWithoutAPageAndWithAReceipt() async throws {
        try await withTestApp { client, database in
            let other = try Records.customer("Written by someone else", replica: "laptop-b")
            _ = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([other], replica: "laptop-b")))
            let mine = try (0..<5).map { try Records.customer("Mine \($0)") }
            let reply = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body(mine, pushOnly: true)))
            #expect(reply.features.contains(.pushAhead))
            #expect(reply.changes.isEmpty, "a push-only request pulls nothing, though a change waits past its cursor")
            #expect(reply.cursor == nil)
            #expect(reply.hasMore)
            #expect(reply.rejected.isEmpty)
            let receipt = try #require(reply.echoReceipt)
            #expect(EchoSequences(parsing: receipt)?.count == 5)

            // The next pull, handed the receipt, brings the other laptop's record and none of
            // the five, and its cursor passes them: nothing waits behind it.
            let pull = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([], receipts: [receipt])))
            #expect(pull.changes.count == 1)
            #expect(try RecordState(jsonBytes: pull.changes[0], values: .stored).id == other.id)
            #expect(!pull.hasMore)
            let after = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([], cursor: pull.cursor)))
            #expect(after.changes.isEmpty)

            // Without the receipt, the same pull brings all six.
            let plain = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([])))
            #expect(plain.changes.count == 6)
        }
    }

    @Test func aRecordChangedAfterThePushAheadIsDeliveredDespiteTheReceipt() async throws {
        try await withTestApp { client, database in
            var first = try Records.customer("First")
            let second = try Records.customer("Second")
            let reply = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([first, second], pushOnly: true)))
            let receipt = try #require(reply.echoReceipt)
            // Another laptop edits the first record before this laptop pulls.
            try first.set("city", to: "Lyon", by: Records.author("laptop-b", minute: 5))
            _ = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([first], replica: "laptop-b")))

            let pull = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([], receipts: [receipt])))
            let pulled = try pull.changes.map { try RecordState(jsonBytes: $0, values: .stored) }
            #expect(pulled.map(\.id) == [first.id])
            #expect(pulled.first?.displayedValue("city") == "Lyon")
        }
    }

    @Test func aMergedStateIsNotInTheReceipt() async throws {
        try await withTestApp { client, database in
            let origin = try Records.customer("Acme")
            _ = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([origin], replica: "laptop-b")))
            var onB = origin, onA = origin
            try onB.set("city", to: "Lyon", by: Records.author("laptop-b", minute: 2))
            _ = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([onB], replica: "laptop-b")))
            try onA.set("phone", to: "555-0101", by: Records.author("laptop-a", minute: 3))
            let untouched = try Records.customer("Untouched")

            let reply = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([onA, untouched], pushOnly: true)))
            let receipt = try #require(reply.echoReceipt)
            #expect(EchoSequences(parsing: receipt)?.count == 1, "only the record stored exactly as sent")
            // The merged record comes back (this laptop lacks Lyon); the untouched one does not.
            let pull = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([], receipts: [receipt])))
            let pulled = try pull.changes.map { try RecordState(jsonBytes: $0, values: .stored) }
            #expect(pulled.map(\.id).contains(origin.id))
            #expect(!pulled.map(\.id).contains(untouched.id))
            #expect(pulled.first { $0.id == origin.id }?.displayedValue("city") == "Lyon")
        }
    }

    @Test func aPageStopsAtItsLimitAndTheReceiptStillCoversTheRest() async throws {
        try await withTestApp { client, database in
            // Receipted writes, then others' writes, then receipted writes again: the receipt
            // has two ranges, and a page of 2 stops inside the others' writes.
            let early = try (0..<3).map { try Records.customer("Early \($0)") }
            let first = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body(early, pushOnly: true)))
            let others = try (0..<3).map { try Records.customer("Other \($0)", replica: "laptop-b") }
            _ = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body(others, replica: "laptop-b")))
            let late = try (0..<3).map { try Records.customer("Late \($0)") }
            let second = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body(late, pushOnly: true)))
            let receipts = try [#require(first.echoReceipt), #require(second.echoReceipt)]

            var cursor: String?
            var pulled: [String] = []
            for _ in 0..<4 {
                let envelope = SyncEnvelope(
                    replicaID: "laptop-a", cursor: cursor, changes: [], limit: 2, omitsEchoes: true, wantsCompactStates: true, echoReceipts: receipts)
                let page = try Self.reply(try await client.sync(token: database.adminToken, body: String(decoding: envelope.jsonBytes(), as: UTF8.self)))
                pulled += try page.changes.map { try RecordState(jsonBytes: $0, values: .stored).id }
                cursor = page.cursor
                if !page.hasMore { break }
            }
            #expect(pulled == others.map(\.id))
            let after = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([], cursor: cursor)))
            #expect(after.changes.isEmpty, "the last page's cursor passed the late receipted writes")
        }
    }

    @Test func twoRequestsUnderOneProposalAreAdmittedInEitherOrder() async throws {
        try await withTestApp { client, database in
            // The first request of an incarnation proposes a token.
            _ = try Self.reply(
                try await client.sync(token: database.adminToken, body: Self.body([try Records.customer("Zero")], token: nil, next: "t1")))
            // Two pushes under (t1 → t2): the one sent second arrives first.
            let ahead = try Self.reply(
                try await client.sync(
                    token: database.adminToken, body: Self.body([try Records.customer("Ahead")], token: "t1", next: "t2", pushOnly: true)))
            #expect(ahead.rejected.isEmpty)
            let head = try Self.reply(
                try await client.sync(token: database.adminToken, body: Self.body([try Records.customer("Head")], token: "t1", next: "t2")))
            #expect(head.rejected.isEmpty)
            // After the head's answer, pushes go under the accepted token as both.
            let next = try Self.reply(
                try await client.sync(
                    token: database.adminToken, body: Self.body([try Records.customer("Next")], token: "t2", next: "t2", pushOnly: true)))
            #expect(next.rejected.isEmpty)
            // A copy still presenting the first token is told it forked.
            let stale = try await client.sync(token: database.adminToken, body: Self.body([], token: nil, next: "t1-copy"))
            #expect(stale.status == .conflict)
            #expect(stale.text.contains("replica_forked"))
        }
    }

    @Test func aReceiptTheServerCannotUseIsLeftAsideAndThePageHoldsEverything() async throws {
        try await withTestApp { client, database in
            // The record numbered 1 here; each receipt below names number 1 in a way this server
            // cannot use (not issued by it, past the limit, another epoch), so the page holds it.
            let written = try Records.customer("Written here", replica: "laptop-b")
            _ = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([written], replica: "laptop-b")))
            let epoch = try await database.pool.withConnection { try ServerEpoch.current(on: $0) }.id
            for text in [
                "", "e1", "x1.\(epoch)", "e2-1.\(epoch)", "e1-3,2-4.\(epoch)", "e01.\(epoch)", "e1.XYZ", "e1-.\(epoch)",
                "e1-5000000.\(epoch)", "e1-5.0123456789ab",
            ] {
                let reply = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([], receipts: [EchoReceipt(rawValue: text)])))
                #expect(reply.changes.count == 1, "receipt '\(text)'")
            }
            // The same number in a receipt this server issued is left out.
            let issued = EchoSequences(numbers: [1], epoch: epoch).receipt
            let omitted = try Self.reply(try await client.sync(token: database.adminToken, body: Self.body([], receipts: [issued])))
            #expect(omitted.changes.isEmpty)
        }
    }

    @Test func receiptsRoundTripAndMergeTheirNumbersIntoRanges() throws {
        let sequences = EchoSequences(numbers: [7, 3, 4, 5, 9, 10, 5], epoch: "0123456789ab")
        #expect(sequences.ranges == [3...5, 7...7, 9...10])
        #expect(sequences.receipt.rawValue == "e3-5,7,9-10.0123456789ab")
        #expect(EchoSequences(parsing: sequences.receipt) == sequences)
        #expect(sequences.count == 6)
        #expect(sequences.count(after: 4) == 4)
        #expect(EchoSequences.skipping([sequences], after: 2) == 5, "stops at the gap before 7")
        #expect(EchoSequences.skipping([sequences], after: 6) == 7)
        #expect(EchoSequences.skipping([sequences], after: 1) == 1)
        #expect(EchoSequences.multirange([sequences]) == "{[3,6),[7,8),[9,11)}")
    }
}
