import PropertyBased
import Testing

@testable import CXModel

/// Re-issuing a forked replica's unconfirmed writes under a new incarnation keeps every value
/// and makes the other copy's writes concurrent with them (issue 10, class 1).
@Suite struct RemintTests {
    static func author(_ replica: String, _ minute: Int64 = 0, floor: UInt64 = 0) -> Author {
        Author(replica: replica, user: "alice", at: Timestamp(millisecondsSinceEpoch: 1_795_000_000_000 + minute * 60_000), counterFloor: floor)
    }

    @Test func mintingUsesTheReplicasFloorAcrossRecords() throws {
        var state = try RecordState.new(kind: .customer, fields: ["name": "Acme"], by: Self.author("r", floor: 40))
        #expect(state.clock["r"] == 41)
        try state.set("phone", to: "1", by: Self.author("r", floor: 10))
        #expect(state.clock["r"] == 42, "the record's own counter wins when higher")
    }

    @Test func forkedWritesBecomeConcurrentWithTheOtherCopys() throws {
        // Shared history up to counter 2, then the laptop forks.
        let base = try RecordState.new(kind: .customer, fields: ["name": "Acme", "city": "Paris"], by: Self.author("r"))
        #expect(base.clock["r"] == 2)
        var other = base
        try other.set("phone", to: "555-0101", by: Self.author("r", 1))  // r:3 on the other copy
        var ours = base
        try ours.set("phone", to: "555-0199", by: Self.author("r", 2))  // r:3 here too: the same dot
        try ours.set("segment", to: "retail", by: Self.author("r", 3))
        try ours.addTag("vip", by: Self.author("r", 3))

        let (reminted, last) = ours.reminting("r", above: 2, as: "r2", after: 0)
        #expect(last == 3)
        #expect(reminted.clock["r"] == 2)
        #expect(reminted.clock["r2"] == 3)
        #expect(!reminted.allDots.contains { $0.replica == "r" && $0.counter > 2 })
        #expect(reminted.displayedValue("segment") == "retail")
        #expect(reminted.tagNames == ["vip"])
        #expect(try RecordState(jsonBytes: reminted.jsonBytes()) == reminted, "the result is canonical")

        let merged = reminted.merging(other)
        #expect(Set(merged.register("phone")!.entries.compactMap(\.value)) == ["555-0101", "555-0199"])
        #expect(merged.displayedValue("segment") == "retail")
        #expect(merged.displayedValue("city") == "Paris")
        // Without re-minting, the other copy's write hides ours: the loss this prevents.
        #expect(ours.merging(other).register("phone")!.entries.count == 1)
    }

    @Test func aReissuedDeleteStillSeesWhatItSaw() throws {
        var state = try RecordState.new(kind: .customer, fields: ["name": "Acme"], by: Self.author("r"))
        try state.set("phone", to: "1", by: Self.author("r", 1))  // r:2, unconfirmed
        state.delete(by: Self.author("r", 2))  // r:3 saw r:2
        let (reminted, _) = state.reminting("r", above: 1, as: "r2", after: 0)
        #expect(reminted.isDeleted, "the delete still covers the re-issued edit it had seen")
        #expect(CausalIntegrity.check(reminted) == nil)
    }

    @Test func sameValueWrittenTwiceIsNotAConflict() throws {
        let base = try RecordState.new(kind: .customer, fields: ["name": "Acme"], by: Self.author("a"))
        var a = base, b = base
        try a.set("phone", to: "555", by: Self.author("a", 1))
        try b.set("phone", to: "555", by: Self.author("b", 2))
        let merged = a.merging(b)
        #expect(merged.register("phone")!.entries.count == 2)
        #expect(!merged.hasConflicts)
        try b.set("phone", to: "556", by: Self.author("b", 3))
        #expect(a.merging(b).hasConflicts)
    }

    @Test func remintingKeepsEveryValueOfRandomStates() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            var simulation = ReplicaSimulation(seed: UInt64(seed), replicaCount: 3)
            for _ in 0..<30 { simulation.step() }
            let state = simulation.replicas[seed % 3]
            let replica = simulation.replicaIDs[seed % 3]
            let threshold = UInt64(seed % 5)
            let (reminted, _) = state.reminting(replica, above: threshold, as: "fresh", after: 0)
            #expect(reminted.fields.map(\.name) == state.fields.map(\.name))
            for register in state.fields {
                #expect(Set(reminted.register(register.name)!.entries.map(\.value)) == Set(register.entries.map(\.value)))
            }
            #expect(reminted.tagNames == state.tagNames)
            #expect(reminted.deletionState == state.deletionState)
            #expect(!reminted.allDots.contains { $0.replica == replica && $0.counter > threshold })
            #expect(CausalIntegrity.check(reminted) == nil)
            #expect((try? RecordState(jsonBytes: reminted.jsonBytes())) == reminted)
        }
    }
}
