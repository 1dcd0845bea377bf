import Testing

@testable import CXModel

/// Local operations, merge outcomes and what every replica displays.
@Suite struct RecordOperationTests {
    static let id = "0d9c6c1e-8a55-4d2e-9f5e-0b7a1c2d3e4f"

    static func at(_ minute: Int64) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: 1_795_000_000_000 + minute * 60_000)
    }

    static func alice(_ minute: Int64 = 0) -> Author { Author(replica: "alice-laptop", user: "alice", at: at(minute)) }
    static func bob(_ minute: Int64 = 0) -> Author { Author(replica: "bob-laptop", user: "bob", at: at(minute)) }

    static func customer() throws -> RecordState {
        try RecordState.new(
            kind: .customer, id: id, fields: ["name": "Acme", "phone": "555-0100"], tags: ["b2b"], by: alice())
    }

    @Test func newRecordHasOneDotPerWrite() throws {
        let state = try Self.customer()
        #expect(state.clock == VersionVector(["alice-laptop": 3]))
        #expect(state.displayedValue("name") == "Acme")
        #expect(state.displayedValue("phone") == "555-0100")
        #expect(state.tagNames == ["b2b"])
        #expect(!state.hasConflicts)
        #expect(state.deletionState == .live)
    }

    @Test func newRecordRequiresName() {
        #expect(throws: RecordValidationError.self) {
            try RecordState.new(kind: .customer, fields: ["phone": "1"], by: Self.alice())
        }
    }

    @Test func setReplacesAndUnsetClears() throws {
        var state = try Self.customer()
        try state.set("phone", to: "555-0199", by: Self.alice(1))
        #expect(state.displayedValue("phone") == "555-0199")
        #expect(state.register("phone")?.entries.count == 1)
        try state.set("phone", to: nil, by: Self.alice(2))
        #expect(state.displayedValue("phone") == nil)
        #expect(state.register("phone")?.entries.count == 1, "an unset is a write that propagates")
        #expect(throws: RecordValidationError.self) { try state.set("name", to: nil, by: Self.alice(3)) }
    }

    @Test func editsOfDifferentFieldsMergeSilently() throws {
        let origin = try Self.customer()
        var onAlice = origin, onBob = origin
        try onAlice.set("phone", to: "555-0101", by: Self.alice(10))
        try onBob.set("city", to: "Lyon", by: Self.bob(11))
        let merged = onAlice.merging(onBob)
        #expect(merged.displayedValue("phone") == "555-0101")
        #expect(merged.displayedValue("city") == "Lyon")
        #expect(!merged.hasConflicts)
        #expect(merged.clock == VersionVector(["alice-laptop": 4, "bob-laptop": 1]))
    }

    @Test func concurrentEditsOfOneFieldConflictAndDisplayTheLatest() throws {
        let origin = try Self.customer()
        var onAlice = origin, onBob = origin
        try onAlice.set("phone", to: "555-0101", by: Self.alice(2))
        try onBob.set("phone", to: "555-0199", by: Self.bob(75))
        let merged = onAlice.merging(onBob)
        #expect(merged.hasConflicts)
        #expect(merged.displayedValue("phone") == "555-0199", "latest `at` is displayed")
        let conflict = try #require(merged.conflicts.first)
        #expect(conflict.field == "phone")
        #expect(conflict.candidates.map(\.value) == ["555-0101", "555-0199"])
        #expect(conflict.candidates.map(\.user) == ["alice", "bob"])
        #expect(conflict.candidates.map(\.replica) == ["alice-laptop", "bob-laptop"])
    }

    @Test func equalTimestampsAreBrokenByReplicaID() throws {
        let origin = try Self.customer()
        var onAlice = origin, onBob = origin
        try onAlice.set("phone", to: "A", by: Self.alice(5))
        try onBob.set("phone", to: "B", by: Self.bob(5))
        #expect(onAlice.merging(onBob).displayedValue("phone") == "B")
        #expect(onBob.merging(onAlice).displayedValue("phone") == "B")
    }

    @Test func resolveSupersedesEveryCandidateEverywhere() throws {
        let origin = try Self.customer()
        var onAlice = origin, onBob = origin
        try onAlice.set("phone", to: "555-0101", by: Self.alice(2))
        try onBob.set("phone", to: "555-0199", by: Self.bob(3))
        var resolved = onAlice.merging(onBob)
        try resolved.resolve("phone", to: "555-0101", by: Self.alice(4))
        #expect(!resolved.hasConflicts)
        // Bob receives the resolution; his stale candidate does not come back.
        let onBobAfterSync = onBob.merging(resolved)
        #expect(onBobAfterSync == resolved)
        #expect(onBobAfterSync.displayedValue("phone") == "555-0101")
    }

    @Test func tagsAreAddWins() throws {
        let origin = try Self.customer()
        var onAlice = origin, onBob = origin
        onAlice.removeTag("b2b", by: Self.alice(1))
        try onBob.addTag("b2b", by: Self.bob(1))
        try onBob.addTag("vip", by: Self.bob(2))
        let merged = onAlice.merging(onBob)
        #expect(merged.tagNames == ["b2b", "vip"], "a concurrent add wins over a remove")
        #expect(!merged.hasConflicts)

        var removedAfterSeeing = merged
        removedAfterSeeing.removeTag("b2b", by: Self.alice(3))
        #expect(removedAfterSeeing.merging(onBob).tagNames == ["vip"], "a remove of seen adds sticks")
        #expect(throws: RecordValidationError.self) { try onAlice.addTag("   ", by: Self.alice(4)) }
    }

    @Test func deleteWithoutConcurrentEditsDeletes() throws {
        var state = try Self.customer()
        state.delete(by: Self.alice(1))
        #expect(state.deletionState == .deleted)
        #expect(state.displayedValue("name") == "Acme", "values stay in place under the tombstone")
        let elsewhere = try Self.customer()
        #expect(elsewhere.merging(state).deletionState == .deleted)
    }

    @Test func deleteConcurrentWithEditIsAConflictThatKeepsTheRecordVisible() throws {
        let origin = try Self.customer()
        var onAlice = origin, onBob = origin
        onAlice.delete(by: Self.alice(1))
        try onBob.set("phone", to: "555-0199", by: Self.bob(2))
        let merged = onAlice.merging(onBob)
        #expect(merged.deletionState == .conflicted)
        #expect(!merged.isDeleted)
        #expect(merged.displayedValue("phone") == "555-0199", "the concurrent edit is not lost")
        let conflict = try #require(merged.conflicts.first)
        #expect(conflict.field == "deleted")
        #expect(conflict.candidates.map(\.value) == ["keep", "delete"])
        #expect(conflict.candidates.map(\.user) == ["bob", "alice"])

        var kept = merged
        try kept.resolve("deleted", to: "keep", by: Self.alice(3))
        #expect(kept.deletionState == .live)
        #expect(!kept.hasConflicts)
        #expect(onBob.merging(kept).deletionState == .live)

        var deleted = merged
        try deleted.resolve("deleted", to: "delete", by: Self.bob(3))
        #expect(deleted.deletionState == .deleted)
        #expect(onBob.merging(deleted).deletionState == .deleted)
        #expect(throws: RecordValidationError.self) { try deleted.resolve("deleted", to: "maybe", by: Self.bob(4)) }
    }

    @Test func restoreConcurrentWithDeleteIsAConflict() throws {
        var origin = try Self.customer()
        origin.delete(by: Self.alice(1))
        var onAlice = origin, onBob = origin
        onBob.restore(by: Self.bob(2))
        onAlice.delete(by: Self.alice(3))
        let merged = onAlice.merging(onBob)
        #expect(merged.deletionState == .conflicted)
    }

    @Test func activityCompletenessDependsOnType() throws {
        let author = Self.alice()
        let purchase = try RecordState.new(
            kind: .activity,
            fields: ["customer_id": Self.id, "type": "purchase", "on": "2026-11-20", "amount": "120"], by: author)
        #expect(purchase.displayedValue("amount") == "120.00")
        #expect(throws: RecordValidationError.self) {
            try RecordState.new(
                kind: .activity, fields: ["customer_id": Self.id, "type": "purchase", "on": "2026-11-20"], by: author)
        }
        #expect(throws: RecordValidationError.self) {
            try RecordState.new(
                kind: .activity, fields: ["customer_id": Self.id, "type": "touchpoint", "on": "2026-11-20"], by: author)
        }
        _ = try RecordState.new(
            kind: .activity,
            fields: ["customer_id": Self.id, "type": "referral", "on": "2026-11-20", "referred_name": "Globex"], by: author)
    }
}
