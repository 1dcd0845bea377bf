import PropertyBased
import Testing

@testable import CXModel
import CXSampleData

/// The CRDT laws, checked on states drawn from random multi-replica histories (so every state
/// is one a real replica could hold), 1,000 random cases each.
@Suite struct MergePropertyTests {
    static let cases = 1_000

    /// Three states of one record from a random history of 3–5 replicas.
    static func randomStates(seed: Int) -> (RecordState, RecordState, RecordState) {
        var simulation = ReplicaSimulation(seed: UInt64(seed), replicaCount: 3 + seed % 3)
        for _ in 0..<(10 + seed % 40) { simulation.step() }
        var rng = SeededRandomGenerator(seed: UInt64(seed) ^ 0xABCDEF)
        let pool = simulation.replicas + simulation.inFlight
        return (
            pool.randomElement(using: &rng)!, pool.randomElement(using: &rng)!, pool.randomElement(using: &rng)!
        )
    }

    @Test func mergeIsCommutative() async {
        await propertyCheck(count: Self.cases, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            let (a, b, _) = Self.randomStates(seed: seed)
            #expect(a.merging(b) == b.merging(a))
            #expect(a.merging(b).jsonBytes() == b.merging(a).jsonBytes())
        }
    }

    @Test func mergeIsAssociative() async {
        await propertyCheck(count: Self.cases, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            let (a, b, c) = Self.randomStates(seed: seed)
            #expect(a.merging(b).merging(c) == a.merging(b.merging(c)))
        }
    }

    @Test func mergeIsIdempotent() async {
        await propertyCheck(count: Self.cases, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            let (a, b, _) = Self.randomStates(seed: seed)
            #expect(a.merging(a) == a)
            let ab = a.merging(b)
            #expect(ab.merging(b) == ab)
            #expect(ab.merging(a) == ab)
        }
    }

    @Test func localWriteDominatesEverythingSeen() async {
        await propertyCheck(count: Self.cases, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            let (a, b, _) = Self.randomStates(seed: seed)
            var seen = a.merging(b)
            let before = seen
            let author = Author(replica: "writer", user: "w", at: Timestamp(millisecondsSinceEpoch: 0))
            try seen.set("phone", to: "555-\(seed % 10_000)", by: author)
            #expect(seen.clock.compare(before.clock) == .after)
            #expect(seen.register("phone")?.entries.count == 1)
            #expect(seen.displayedValue("phone") == "555-\(seed % 10_000)")
            // Merging anything the writer had seen changes nothing.
            #expect(seen.merging(a) == seen)
            #expect(seen.merging(b) == seen)
            #expect(seen.merging(before) == seen)
        }
    }

    @Test func replicasConvergeWithoutLosingWrites() async {
        await propertyCheck(count: Self.cases, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            var simulation = ReplicaSimulation(seed: UInt64(seed), replicaCount: 3 + seed % 3)
            for _ in 0..<(20 + seed % 80) { simulation.step() }
            simulation.quiesce()
            let final = simulation.replicas[0]
            for replica in simulation.replicas {
                #expect(replica == final)
                #expect(replica.jsonBytes() == final.jsonBytes())
            }
            #expect(simulation.lostWrites(in: final).isEmpty)
            // Every replica displays the same thing.
            for replica in simulation.replicas {
                #expect(replica.displayedFields.map(\.value) == final.displayedFields.map(\.value))
                #expect(replica.conflicts == final.conflicts)
                #expect(replica.deletionState == final.deletionState)
            }
        }
    }

    @Test func encodingRoundTripsByteForByte() async {
        await propertyCheck(count: Self.cases, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            let (a, b, _) = Self.randomStates(seed: seed)
            let state = a.merging(b)
            let bytes = state.jsonBytes()
            let decoded = try RecordState(jsonBytes: bytes)
            #expect(decoded == state)
            #expect(decoded.jsonBytes() == bytes)
        }
    }
}

/// Guards the property tests against testing nothing: the random histories must actually
/// reach conflicts, deletions and delete/edit conflicts.
@Suite struct SimulationCoverageTests {
    @Test func randomHistoriesReachEveryInterestingState() {
        var conflicted = 0, deleted = 0, deleteConflicts = 0, tagged = 0
        for seed in 0..<300 {
            var simulation = ReplicaSimulation(seed: UInt64(seed), replicaCount: 3 + seed % 3)
            for _ in 0..<(20 + seed % 80) { simulation.step() }
            let merged = simulation.replicas.dropFirst().reduce(simulation.replicas[0]) { $0.merging($1) }
            if merged.fields.contains(where: \.isConflicted) { conflicted += 1 }
            if merged.deletionState == .deleted { deleted += 1 }
            if merged.deletionState == .conflicted { deleteConflicts += 1 }
            if !merged.tags.isEmpty { tagged += 1 }
        }
        #expect(conflicted > 30)
        #expect(deleted > 0)
        #expect(deleteConflicts > 5)
        #expect(tagged > 30)
    }
}
