import Testing

@testable import CXModel

@Suite struct VersionVectorTests {
    @Test func emptyVectorHasSeenNothing() {
        let clock = VersionVector()
        #expect(clock.isEmpty)
        #expect(clock["a"] == 0)
        #expect(!clock.contains(Dot(replica: "a", counter: 1)))
    }

    @Test func incrementCreatesConsecutiveDots() {
        var clock = VersionVector()
        #expect(clock.increment("b") == Dot(replica: "b", counter: 1))
        #expect(clock.increment("a") == Dot(replica: "a", counter: 1))
        #expect(clock.increment("b") == Dot(replica: "b", counter: 2))
        #expect(clock.entries.map(\.replica) == ["a", "b"])
        #expect(clock.contains(Dot(replica: "b", counter: 1)))
        #expect(!clock.contains(Dot(replica: "b", counter: 3)))
    }

    @Test func zeroCountersAreDropped() {
        #expect(VersionVector(["a": 0, "b": 2]) == VersionVector(["b": 2]))
    }

    @Test(arguments: [
        (["a": 1], ["a": 1], CausalOrder.equal),
        (["a": 1], ["a": 2], .before),
        (["a": 2, "b": 1], ["a": 2], .after),
        (["a": 2], ["b": 1], .concurrent),
        (["a": 2, "b": 1], ["a": 1, "b": 2], .concurrent),
        ([:], ["a": 1], .before),
        ([:], [:], .equal),
    ])
    func compare(left: [String: UInt64], right: [String: UInt64], expected: CausalOrder) {
        #expect(VersionVector(left).compare(VersionVector(right)) == expected)
    }

    @Test func mergeIsPointwiseMaximum() {
        let merged = VersionVector(["a": 3, "b": 1]).merging(VersionVector(["b": 4, "c": 2]))
        #expect(merged == VersionVector(["a": 3, "b": 4, "c": 2]))
        #expect(merged.dominates(VersionVector(["a": 3, "b": 1])))
        #expect(!VersionVector(["a": 3]).dominates(merged))
    }
}
