import PropertyBased
import Testing

@testable import CXModel
import CXSampleData

/// Merging a duplicate customer (``DuplicateMerge``, ``RecordState/absorb(_:unseenBy:by:)``):
/// gaps filled, different values kept as conflicting candidates, tags united, activities
/// moved, the duplicate tombstoned with a pointer; the join laws hold on the results and no
/// value of either record is lost.
@Suite struct DuplicateMergeTests {
    static let cases = 500

    static func at(_ minute: Int64) -> Timestamp { Timestamp(millisecondsSinceEpoch: 1_790_000_000_000 + minute * 60_000) }
    static let alice = Author(replica: "alice-laptop", user: "alice", at: at(0))
    static let bob = Author(replica: "bob-laptop", user: "bob", at: at(1))
    static let merger = Author(replica: "sql:carol", user: "carol", at: at(10))

    static func customer(_ fields: [String: String?], tags: [String] = [], by author: Author = alice) throws -> RecordState {
        try RecordState.new(kind: .customer, fields: fields, tags: tags, by: author)
    }

    /// Every non-empty value a state holds, per field (`extra.merged_into` aside).
    static func values(_ state: RecordState) -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for register in state.fields where register.name != RecordState.mergedIntoField {
            let values = Set(register.entries.compactMap(\.value))
            if !values.isEmpty { result[register.name] = values }
        }
        return result
    }

    /// A state from a random history of 3–5 replicas.
    static func randomState(seed: Int) -> RecordState {
        var simulation = ReplicaSimulation(seed: UInt64(seed), replicaCount: 3 + seed % 3)
        for _ in 0..<(10 + seed % 40) { simulation.step() }
        var rng = SeededRandomGenerator(seed: UInt64(seed) ^ 0x5EED)
        return (simulation.replicas + simulation.inFlight).randomElement(using: &rng)!
    }

    // MARK: Properties

    @Test func absorbingNeverLosesAValueAndOnlyAddsWrites() async {
        await propertyCheck(count: Self.cases, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            let keep = Self.randomState(seed: seed), drop = Self.randomState(seed: seed &+ 7919)
            var kept = keep
            kept.absorb(drop, by: Self.merger)
            // An inflation: the result has seen everything `keep` had, so joining it changes nothing.
            #expect(kept.clock.dominates(keep.clock))
            #expect(kept.merging(keep) == kept)
            // Every value of either record is the kept value or a candidate.
            let after = Self.values(kept)
            for (field, values) in Self.values(keep).merging(Self.values(drop), uniquingKeysWith: { $0.union($1) }) {
                #expect(values.isSubset(of: after[field] ?? []), "\(field): \(values) not all in \(after[field] ?? [])")
            }
            #expect(Set(drop.tagNames).union(keep.tagNames) == Set(kept.tagNames))
            // The displayed values of `keep` are all still there: displayed, or a candidate of a
            // conflict (beside a value or a clear the duplicate held).
            for (name, value) in keep.displayedFields {
                #expect(kept.register(name)?.entries.contains { $0.value == value } == true, "\(name): \(value)")
            }
        }
    }

    @Test func joinLawsHoldWithMergedStatesAndConcurrentEdits() async {
        await propertyCheck(count: Self.cases, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            // Two states of the kept record from one history (a replica that merged, one that edited).
            var simulation = ReplicaSimulation(seed: UInt64(seed), replicaCount: 3)
            for _ in 0..<(10 + seed % 30) { simulation.step() }
            let drop = Self.randomState(seed: seed &+ 104_729)
            var merged = simulation.replicas[0]
            merged.absorb(drop, by: Self.merger)
            let concurrent = simulation.replicas[1], third = simulation.replicas[2]
            #expect(merged.merging(concurrent) == concurrent.merging(merged))
            #expect(merged.merging(concurrent).merging(third) == merged.merging(concurrent.merging(third)))
            #expect(merged.merging(merged) == merged)
            // A replica that had not seen the merge keeps every value the merge brought: the
            // merge's entries are writes it had not seen, so the join keeps them.
            let joined = concurrent.merging(merged)
            for register in merged.fields {
                for entry in register.entries where entry.dot.replica == Self.merger.replica {
                    #expect(joined.register(register.name)?.entries.contains(entry) == true, "\(register.name)")
                }
            }
        }
    }

    // MARK: Units

    @Test func gapsAreFilledDifferentValuesConflictEqualValuesStay() throws {
        let keep = try Self.customer(["name": "Acme GmbH", "phone": "555-0100", "city": "Berlin"], tags: ["b2b"])
        var drop = try Self.customer(["name": "ACME GmbH", "phone": "555-0100", "email": "info@acme.example", "notes": "met at fair"],
                                     tags: ["vip", "b2b"], by: Self.bob)
        try drop.set("extra.source", to: "fair", by: Self.bob)
        var kept = keep
        let outcome = kept.absorb(drop, by: Self.merger)
        #expect(outcome.filled == ["email", "extra.source", "notes"])
        #expect(outcome.conflicted == ["name"])
        #expect(outcome.tags == ["vip"])
        #expect(kept.displayedValue("email") == "info@acme.example")
        #expect(kept.displayedValue("phone") == "555-0100")
        #expect(kept.register("phone")?.entries.count == 1, "an equal value adds nothing")
        let name = try #require(kept.conflicts.first { $0.field == "name" })
        #expect(Set(name.candidates.map(\.value)) == ["Acme GmbH", "ACME GmbH"])
        // The candidate keeps its writer and time; its dot is the merger's.
        let added = try #require(kept.register("name")?.entries.first { $0.value == "ACME GmbH" })
        #expect(added.user == "bob" && added.at == Self.bob.at && added.dot.replica == "sql:carol")
        #expect(kept.tagNames == ["b2b", "vip"])

        // Resolving settles it everywhere: the resolution supersedes both candidates.
        var resolved = kept
        try resolved.resolve("name", to: "Acme GmbH", by: Self.alice)
        #expect(!resolved.hasConflicts)
        #expect(resolved.merging(kept) == resolved)
    }

    @Test func anUnsetFieldIsAGapAndAConflictedDuplicateStaysConflicted() throws {
        var keep = try Self.customer(["name": "Acme", "phone": "1"])
        try keep.set("phone", to: nil, by: Self.alice)
        var left = try Self.customer(["name": "Acme"], by: Self.bob)
        var right = left
        try left.set("phone", to: "555-1", by: Self.bob)
        try right.set("phone", to: "555-2", by: Author(replica: "dan", user: "dan", at: Self.at(2)))
        let drop = left.merging(right)
        var kept = keep
        let outcome = kept.absorb(drop, by: Self.merger)
        #expect(outcome.conflicted == ["phone"])
        #expect(Set(kept.register("phone")!.entries.map(\.value)) == ["555-1", "555-2"], "the unset entry is superseded")
    }

    /// A duplicate whose field shows a value in conflict with a clear (someone unset it while
    /// someone else set it): the merge keeps the clear as a candidate beside the value, on a
    /// survivor without the field and on one with another value — never the value alone
    /// (fault suite, seed 610000: the clear was left on the tombstone only).
    @Test func aClearInConflictOnTheDuplicateStaysACandidate() throws {
        var base = try Self.customer(["name": "Dup", "email": "old@example.com"], by: Self.bob)
        var cleared = base
        try base.set("email", to: "x@example.com", by: Self.bob)
        try cleared.set("email", to: nil, by: Author(replica: "sql:erin", user: "erin", at: Self.at(3)))
        let drop = base.merging(cleared)
        #expect(Set(try #require(drop.register("email")).entries.map(\.value)) == ["x@example.com", nil])

        var gap = try Self.customer(["name": "Keep"])
        var outcome = gap.absorb(drop, by: Self.merger)
        #expect(outcome.conflicted.contains("email") && !outcome.filled.contains("email"))
        #expect(Set(try #require(gap.register("email")).entries.map(\.value)) == ["x@example.com", nil])

        var valued = try Self.customer(["name": "Keep", "email": "keep@example.com"])
        outcome = valued.absorb(drop, by: Self.merger)
        #expect(outcome.conflicted.contains("email"))
        #expect(Set(try #require(valued.register("email")).entries.map(\.value)) == ["keep@example.com", "x@example.com", nil])

        // Only a clear on the duplicate: the survivor's value stands (the merge adds nothing).
        var onlyCleared = try Self.customer(["name": "Keep", "email": "keep@example.com"])
        outcome = onlyCleared.absorb(cleared, by: Self.merger)
        #expect(!outcome.conflicted.contains("email") && !outcome.filled.contains("email"))
        #expect(onlyCleared.displayedValue("email") == "keep@example.com")
        // The survivor already shows a clear among its values: no second empty candidate.
        var both = valued
        outcome = both.absorb(drop, by: Self.merger)
        #expect(!outcome.conflicted.contains("email") && both.register("email") == valued.register("email"))
    }

    @Test func mergeMovesActivitiesTombstonesWithPointerAndRefusesBadPairs() throws {
        let keep = try Self.customer(["name": "Acme"])
        let drop = try Self.customer(["name": "Acme Ltd", "phone": "555"], by: Self.bob)
        let sale = try RecordState.new(
            kind: .activity, fields: ["customer_id": drop.id, "type": "purchase", "on": "2026-03-01", "amount": "10.00"], by: Self.bob)
        var gone = try RecordState.new(
            kind: .activity, fields: ["customer_id": drop.id, "type": "touchpoint", "on": "2026-03-02", "channel": "call"], by: Self.bob)
        gone.delete(by: Self.bob)
        let other = try RecordState.new(
            kind: .activity, fields: ["customer_id": keep.id, "type": "touchpoint", "on": "2026-03-02", "channel": "call"], by: Self.bob)
        let merge = try DuplicateMerge(keep: keep, drop: drop, activities: [sale, gone, other], by: Self.merger)
        #expect(merge.moved.map(\.id) == [sale.id])
        #expect(merge.moved[0].displayedValue("customer_id") == keep.id)
        #expect(merge.dropped.isDeleted)
        #expect(merge.dropped.mergedInto == keep.id)
        #expect(merge.dropped.displayedValue("phone") == "555", "a tombstone keeps its values")
        #expect(merge.kept.displayedValue("phone") == "555")
        // Every write has its own dot, and the merger's counters grow across records.
        let dots = ([merge.kept, merge.dropped] + merge.moved).flatMap(\.allDots).filter { $0.replica == "sql:carol" }
        #expect(Set(dots).count == dots.count)

        #expect(throws: DuplicateMerge.Refusal.self) { try DuplicateMerge(keep: keep, drop: keep, activities: [], by: Self.merger) }
        #expect(throws: DuplicateMerge.Refusal.self) { try DuplicateMerge(keep: keep, drop: merge.dropped, activities: [], by: Self.merger) }
        #expect(throws: DuplicateMerge.Refusal.self) { try DuplicateMerge(keep: merge.dropped, drop: keep, activities: [], by: Self.merger) }
        #expect(throws: DuplicateMerge.Refusal.self) { try DuplicateMerge(keep: keep, drop: sale, activities: [], by: Self.merger) }
        var deleted = drop
        deleted.delete(by: Self.bob)
        #expect(throws: DuplicateMerge.Refusal.self) { try DuplicateMerge(keep: keep, drop: deleted, activities: [], by: Self.merger) }
    }

    @Test func editsMadeToTheDuplicateAfterTheMergeAreRedirectedAsConcurrentWrites() throws {
        let keep = try Self.customer(["name": "Acme", "phone": "555-0100"])
        let drop = try Self.customer(["name": "Acme Ltd"], by: Self.bob)
        let merge = try DuplicateMerge(keep: keep, drop: drop, activities: [], by: Self.merger)
        // Bob, offline, had not seen the merge: he edits his copy of the duplicate.
        var bobsCopy = drop
        try bobsCopy.set("phone", to: "555-0199", by: Self.bob)
        try bobsCopy.set("notes", to: "call on Mondays", by: Self.bob)
        try bobsCopy.addTag("vip", by: Self.bob)
        let joined = merge.dropped.merging(bobsCopy)
        #expect(joined.deletionState == .conflicted, "an edit concurrent with the merge's delete")
        #expect(joined.mergedInto == keep.id)

        var kept = merge.kept
        let outcome = kept.absorb(joined, unseenBy: try #require(joined.tombstoneSeen), by: Self.alice)
        #expect(outcome.filled == ["notes"])
        #expect(outcome.conflicted == ["phone"], "a real disagreement is a conflict")
        #expect(outcome.tags == ["vip"])
        #expect(kept.register("name")?.entries.count == 2, "the merged name is not written again")
        var redeleted = joined
        redeleted.delete(by: Self.alice)
        #expect(redeleted.isDeleted)
        #expect(redeleted.mergedInto == keep.id)
    }

    /// A late edit of the duplicate meets a field someone cleared on the survivor meanwhile: the
    /// two were made concurrently, so the redirect keeps both as a conflict — the clear is not
    /// filled over silently (fault seed 1500017).
    @Test func aLateEditOfTheDuplicateStandsBesideAClearOfTheSurvivor() throws {
        let keep = try Self.customer(["name": "Acme", "notes": "old note"])
        let drop = try Self.customer(["name": "Acme Ltd"], by: Self.bob)
        let merge = try DuplicateMerge(keep: keep, drop: drop, activities: [], by: Self.merger)
        var bobsCopy = drop
        try bobsCopy.set("notes", to: "call on Mondays", by: Self.bob)
        let joined = merge.dropped.merging(bobsCopy)
        var kept = merge.kept
        try kept.set("notes", to: nil, by: Self.alice)

        let outcome = kept.absorb(joined, unseenBy: try #require(joined.tombstoneSeen), by: Self.alice)
        #expect(outcome.conflicted == ["notes"] && outcome.filled.isEmpty, "\(outcome)")
        let values = Set((kept.register("notes")?.entries ?? []).map(\.value))
        #expect(values == [nil, "call on Mondays"])

        // (A field never set on the survivor is still filled: see the test above, `notes`.)
    }

    // MARK: Finding

    @Test func duplicatesByEmailPhoneAndSimilarNameInOneCity() {
        typealias C = DuplicateFinder.Candidate
        let customers = [
            C(id: "00000000-0000-4000-8000-000000000001", name: "John Smith", email: "J.Smith@Example.com", phone: "+49 30 1234567", city: "Berlin"),
            C(id: "00000000-0000-4000-8000-000000000002", name: "Jon Smith", email: "j.smith@example.com", phone: "030 1234567", city: " berlin "),
            C(id: "00000000-0000-4000-8000-000000000003", name: "Jon Smith", email: nil, phone: "555-12", city: "Hamburg"),
            C(id: "00000000-0000-4000-8000-000000000004", name: "Acme-Werke GmbH", email: nil, phone: "555-12", city: "New  York"),
            C(id: "00000000-0000-4000-8000-000000000005", name: "ACME Werke", email: nil, phone: nil, city: "new york"),
        ]
        let pairs = DuplicateFinder.pairs(customers.reversed())
        #expect(pairs.map { [$0.first.id.suffix(1), $0.second.id.suffix(1)] } == [["1", "2"], ["4", "5"]])
        #expect(pairs[0].reasons == [.email, .phone, .name])
        #expect(pairs[0].similarityText == "0.615")
        #expect(pairs[1].reasons == [.name])
        #expect(DuplicateFinder.phoneKey("555-12") == nil, "fewer than 7 digits are not compared")
        #expect(DuplicateFinder.phoneKey("+1 (415) 555-0100") == DuplicateFinder.phoneKey("415.555.0100"))
        #expect(DuplicateFinder.similarity("Müller", "MÜLLER").thousandths < 1000, "only ASCII letters are folded")
        #expect(DuplicateFinder.similarity("", "").isSimilar == false)
    }

    @Test func thePrefixIndexFindsExactlyThePairsOfTheFullComparison() async {
        let syllables = ["ac", "me", "lo", "ra", "ke", "tin", "son", "ber", "gmbh", "&", "co", "müll", "er"]
        await propertyCheck(count: 200, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            var rng = SeededRandomGenerator(seed: UInt64(seed))
            let names = (0..<(5 + seed % 40)).map { _ in
                (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                    (0..<Int.random(in: 1...3, using: &rng)).map { _ in syllables.randomElement(using: &rng)! }.joined()
                }.joined(separator: Bool.random(using: &rng) ? " " : "-")
            }
            var expected: [[Int]] = []
            for a in names.indices {
                for b in names.indices where b > a && DuplicateFinder.similarity(names[a], names[b]).isSimilar { expected.append([a, b]) }
            }
            let found = DuplicateFinder.similarNames(names).map { [$0.0, $0.1] }.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }
            #expect(found == expected)
        }
    }
}
