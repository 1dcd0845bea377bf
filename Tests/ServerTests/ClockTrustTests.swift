import CXModel
import Foundation
import HummingbirdTesting
import Testing

@testable import CXServer

/// The server believes a pushed clock only as far as the pusher may speak (issue 10, classes
/// 1 and 2): counters of other users' replicas beyond what the server holds, counters near
/// overflow, tombstones that claim more than their state, and dots re-used with other content
/// are refused per record; the rest of the push is written and nobody is bricked.
@Suite(.serverDatabase) struct ClockTrustTests {
    /// `state` with its JSON rewritten by `edit` (forging what a hostile client would send).
    static func forged(_ state: RecordState, _ edit: (String) -> String) throws -> RecordState {
        try RecordState(jsonString: edit(String(decoding: state.jsonBytes(.expanded), as: UTF8.self)))
    }

    /// A sync body with replica tokens.
    static func body(replica: String, token: String?, next: String, changes: [RecordState] = []) -> String {
        let plain = Records.syncBody(replica: replica, changes: changes)
        let tokens = "\"sync_token\":" + (token.map { "\"\($0)\"" } ?? "null") + ",\"next_sync_token\":\"\(next)\","
        return "{" + tokens + plain.dropFirst()
    }

    @Test func anotherUsersReplicaCannotBeAdvancedAndItsOwnerKeepsSyncing() async throws {
        try await withTestApp { client, database in
            let alice = try await database.user("alice", territories: ["north"])
            let mallory = try await database.user("mallory", territories: ["north"])
            let acme = try Records.customer("Acme", replica: "alice-laptop")
            let first = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [acme])).text)
            #expect(first.rejected.isEmpty)

            // Mallory claims alice's replica wrote far more than it did, and near overflow.
            let ahead = try Self.forged(acme) { $0.replacingOccurrences(of: "\"alice-laptop\":2}", with: "\"alice-laptop\":1000}") }
            let overflow = try Self.forged(try Records.customer("Initech", replica: "alice-laptop")) {
                $0.replacingOccurrences(of: "\"alice-laptop\":2}", with: "\"alice-laptop\":9223372036854775807}")
            }
            let honest = try Records.customer("Globex", replica: "mallory-laptop")
            let pushed = try SyncResponse(
                try await client.sync(token: mallory, body: Records.syncBody(replica: "mallory-laptop", changes: [ahead, overflow, honest])).text)
            #expect(Dictionary(uniqueKeysWithValues: pushed.rejected.map { ($0.id, $0.code) }) == [
                acme.id: "foreign_clock", overflow.id: "counter_out_of_range",
            ])
            #expect(pushed.ids.contains(honest.id), "the honest record of the same push is written")

            // Alice's later offline edit is not swallowed, and her syncs keep working.
            var edited = acme
            try edited.set("phone", to: "555-0101", by: Records.author("alice-laptop", minute: 5))
            let again = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [edited])).text)
            #expect(again.rejected.isEmpty)
            let stored = try #require(again.changes.first { $0.id == acme.id })
            #expect(stored.displayedValue("phone") == "555-0101")
            #expect(stored.clock["alice-laptop"] == 3)
        }
    }

    @Test func aReplicaMayRaiseItsOwnCountersButNotPastTwoToThe53() async throws {
        try await withTestApp { client, database in
            let alice = try await database.user("alice", territories: ["north"])
            let big = try Self.forged(try Records.customer("Acme", replica: "alice-laptop")) {
                $0.replacingOccurrences(of: "\"alice-laptop\":2}", with: "\"alice-laptop\":9007199254740991}")
            }
            let tooBig = try Self.forged(try Records.customer("Initech", replica: "alice-laptop")) {
                $0.replacingOccurrences(of: "\"alice-laptop\":2}", with: "\"alice-laptop\":9007199254740992}")
            }
            let pushed = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [big, tooBig])).text)
            #expect(pushed.rejected.map(\.code) == ["counter_out_of_range"])
            #expect(pushed.rejected.map(\.id) == [tooBig.id])
        }
    }

    @Test func aTombstoneCannotClaimWritesItsStateNeverSaw() async throws {
        try await withTestApp { client, database in
            let alice = try await database.user("alice", territories: ["north"])
            let bob = try await database.user("bob", territories: ["north"])
            let acme = try Records.customer("Acme", replica: "alice-laptop")
            _ = try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [acme]))
            // Bob edits offline; alice's forged delete claims to have seen bob's edit.
            var edited = acme
            try edited.set("phone", to: "555-0199", by: Records.author("bob-laptop", minute: 1))
            _ = try await client.sync(token: bob, body: Records.syncBody(replica: "bob-laptop", changes: [edited]))
            var deleted = acme
            deleted.delete(by: Records.author("alice-laptop", minute: 2))
            let forged = try Self.forged(deleted) { $0.replacingOccurrences(of: "\"seen\":{\"alice-laptop\":2}", with: "\"seen\":{\"alice-laptop\":2,\"bob-laptop\":1}") }
            let pushed = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [forged])).text)
            #expect(pushed.rejected.map(\.code) == ["invalid_tombstone"])
            // The honest delete is a keep-or-delete conflict, not a silent loss.
            let honest = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [deleted])).text)
            #expect(honest.rejected.isEmpty)
            let stored = try #require(honest.changes.first { $0.id == acme.id })
            #expect(stored.deletionState == .conflicted)
            #expect(stored.displayedValue("phone") == "555-0199")
        }
    }

    @Test func aDotStoredWithOtherContentIsRefused() async throws {
        try await withTestApp { client, database in
            let alice = try await database.user("alice", territories: ["north"])
            let acme = try Records.customer("Acme", replica: "alice-laptop")
            var phoned = acme
            try phoned.set("phone", to: "555-0101", by: Records.author("alice-laptop", minute: 1))
            _ = try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [phoned]))
            // A restored copy writes another value under the same dot.
            var other = acme
            try other.set("phone", to: "555-0199", by: Records.author("alice-laptop", minute: 2))
            let pushed = try SyncResponse(try await client.sync(token: alice, body: Records.syncBody(replica: "alice-laptop", changes: [other])).text)
            #expect(pushed.rejected.map(\.code) == ["dot_reused"])
        }
    }

    @Test func syncTokensAdmitRetriesAndRefuseCopies() async throws {
        try await withTestApp { client, database in
            let alice = try await database.user("alice", territories: ["north"])
            let carol = try await database.user("carol", territories: ["north"])
            func status(_ token: String, _ body: String) async throws -> Int {
                Int(try await client.sync(token: token, body: body).status.code)
            }
            #expect(try await status(alice, Self.body(replica: "laptop", token: nil, next: "t1")) == 200)
            #expect(try await status(alice, Self.body(replica: "laptop", token: "t1", next: "t2")) == 200)
            // The reply to t2 was lost: the same request again is admitted.
            #expect(try await status(alice, Self.body(replica: "laptop", token: "t1", next: "t2")) == 200)
            // A copy of the cache from before t2 (a backup, a second laptop) is refused, pushing or not.
            let copy = try await client.sync(
                token: alice, body: Self.body(replica: "laptop", token: "t1", next: "t9", changes: [try Records.customer(replica: "laptop")]))
            #expect(copy.status.code == 409)
            #expect(copy.text.contains("\"replica_forked\""))
            #expect(try await status(alice, Self.body(replica: "laptop", token: "t1", next: "t8")) == 409)
            #expect(try await status(alice, Self.body(replica: "laptop", token: "t2", next: "t3")) == 200)
            // Another user cannot take the replica over.
            #expect(try await status(carol, Self.body(replica: "laptop", token: "t3", next: "t4")) == 409)
            // Nothing the refused copy pushed was written.
            let count = try await database.sql { connection in
                try connection.query("SELECT count(*)::bigint AS n FROM cx.customers")[0].decode("n", as: Int64.self)
            }
            #expect(count == 0)
        }
    }

    /// A pull request sent ahead (docs/sync-protocol.md, "Pull pages ahead") presents the token
    /// just accepted as both the current and the next one: admitted while it is the stored
    /// token, leaving it stored; refused once another copy of the cache synced.
    @Test func aPullSentAheadUnderTheAcceptedTokenIsAdmittedUntilAnotherCopySyncs() async throws {
        try await withTestApp { client, database in
            let alice = try await database.user("alice", territories: ["north"])
            func status(_ body: String) async throws -> Int {
                Int(try await client.sync(token: alice, body: body).status.code)
            }
            #expect(try await status(Self.body(replica: "laptop", token: nil, next: "t1")) == 200)
            #expect(try await status(Self.body(replica: "laptop", token: "t1", next: "t1")) == 200)
            #expect(try await status(Self.body(replica: "laptop", token: "t1", next: "t1")) == 200)
            // The token is still t1: the laptop's next push proposes from it.
            #expect(try await status(Self.body(replica: "laptop", token: "t1", next: "t2")) == 200)
            // A copy still holding t1 is refused, pulling ahead or not.
            #expect(try await status(Self.body(replica: "laptop", token: "t1", next: "t1")) == 409)
            #expect(try await status(Self.body(replica: "laptop", token: "t2", next: "t2")) == 200)
        }
    }
}
