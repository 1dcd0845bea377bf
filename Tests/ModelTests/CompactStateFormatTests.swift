import Foundation
import PropertyBased
import Testing

@testable import CXModel
import CXSampleData

/// The compact state format (`"v":2`, docs/sync-protocol.md §6): the same states as the
/// expanded form, smaller, read by the same checks.
@Suite struct CompactStateFormatTests {
    /// The example of docs/sync-protocol.md §6, in both forms.
    static let expandedExample = #"""
        {"id":"0b6f3a52-7c1d-4e8a-9f30-2d5c8e41a7b9","kind":"customer","clock":{"anna-laptop":3},
        "fields":{"name":[{"value":"Müller & Söhne KG","dot":["anna-laptop",1],"at":"2026-11-20T09:15:00.000Z","user":"anna"}],
        "phone":[{"value":"+49 30 1234567","dot":["anna-laptop",2],"at":"2026-11-20T09:15:00.000Z","user":"anna"}]},
        "tags":{"wholesale":[["anna-laptop",3]]},"deletion":[]}
        """#
    static let compactExample = #"""
        {"v":2,"id":"0b6f3a52-7c1d-4e8a-9f30-2d5c8e41a7b9","kind":"customer","replicas":["anna-laptop"],"clock":[3],
        "writes":[[0,1795166100000,"anna"]],
        "fields":{"name":[["Müller & Söhne KG",0,1]],"phone":[["+49 30 1234567",0,2]]},
        "tags":{"wholesale":[[0,3]]},"deletion":[]}
        """#

    @Test func theDocumentedExampleIsOneStateInBothForms() throws {
        let expanded = try RecordState(jsonString: Self.expandedExample)
        let compact = try RecordState(jsonString: Self.compactExample)
        #expect(compact == expanded)
        #expect(expanded.jsonString() == Self.compactExample.replacingOccurrences(of: "\n", with: ""))
        #expect(compact.jsonString(.expanded) == Self.expandedExample.replacingOccurrences(of: "\n", with: ""))
    }

    @Test func everyStateRoundTripsThroughBothForms() async {
        await propertyCheck(count: MergePropertyTests.cases, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            let (a, b, _) = MergePropertyTests.randomStates(seed: seed)
            let state = a.merging(b)
            let compact = state.jsonBytes(.compact), expanded = state.jsonBytes(.expanded)
            let fromCompact = try RecordState(jsonBytes: compact)
            #expect(fromCompact == state)
            #expect(try RecordState(jsonBytes: expanded) == state)
            #expect(fromCompact.jsonBytes(.compact) == compact, "byte for byte")
            #expect(fromCompact.jsonBytes(.expanded) == expanded, "one form converts to the other exactly")
        }
    }

    /// PostgreSQL's `jsonb` prints keys by length, then bytes, with a space after `:` and `,`:
    /// what the server passes through must read back as the same state.
    @Test func aReorderedSpacedCopyReadsTheSame() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            let (a, b, c) = MergePropertyTests.randomStates(seed: seed)
            let state = a.merging(b).merging(c)
            let object = try JSONSerialization.jsonObject(with: Data(state.jsonBytes()))
            let reprinted = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            #expect(try RecordState(jsonBytes: Array(reprinted)) == state)
        }
    }

    /// Issue 12's budget: a realistic customer (15 fields and a tag, written once) in at most
    /// 800 bytes, where the expanded form takes about 1.9 KB with a cx-style replica id.
    @Test func aCustomerWrittenOnceFitsTheSizeBudget() {
        var rng = SeededRandomGenerator(seed: 12)
        let at = Timestamp(millisecondsSinceEpoch: 1_795_000_000_123)
        for index in [0, 7, 4_999, 99_999] {
            let state = SampleCustomers.customer(index: index, replica: "anna-macbook.3f9c2a1e", at: at, using: &rng)
            #expect(state.fields.count == 15)
            let compact = state.jsonBytes(.compact).count, expanded = state.jsonBytes(.expanded).count
            #expect(compact <= 800, "\(compact) bytes")
            #expect(expanded > 2 * compact, "expanded \(expanded) bytes vs compact \(compact)")
        }
    }

    @Test(arguments: [
        ("unknown version", #""v":2"#, #""v":3"#, "format v3"),
        ("write out of range", #"["Müller & Söhne KG",0,1]"#, #"["Müller & Söhne KG",1,1]"#, "write 1 is not in 'writes'"),
        ("negative write", #"["Müller & Söhne KG",0,1]"#, #"["Müller & Söhne KG",-1,1]"#, "write -1"),
        ("replica out of range", #"[[0,1795166100000,"anna"]]"#, #"[[1,1795166100000,"anna"]]"#, "names replica 1"),
        ("tag replica out of range", #""wholesale":[[0,3]]"#, #""wholesale":[[2,3]]"#, "replica 2 is not in 'replicas'"),
        ("clock shorter than replicas", #""clock":[3]"#, #""clock":[]"#, "pair up"),
        ("dot beyond clock", #"["+49 30 1234567",0,2]"#, #"["+49 30 1234567",0,4]"#, "not covered by the clock"),
        ("zero counter", #""clock":[3]"#, #""clock":[0]"#, "counter"),
        ("time beyond year 9999", #"1795166100000"#, #"253402300800000"#, "outside years"),
        ("expanded entry in a compact state", #"["+49 30 1234567",0,2]"#,
         #"{"value":"+49 30 1234567","dot":["anna-laptop",2],"at":"2026-11-20T09:15:00.000Z"}"#, "expanded form"),
        ("compact parts without a version", #""v":2,"#, "", "needs \"v\":2"),
        ("missing writes", #""writes":[[0,1795166100000,"anna"]],"#, "", "missing 'writes'"),
        ("a write with four elements", #"[[0,1795166100000,"anna"]]"#, #"[[0,1795166100000,"anna",1]]"#, "exactly three"),
        ("duplicate dot", #"["+49 30 1234567",0,2]"#, #"["+49 30 1234567",0,1]"#, "appears twice"),
    ])
    func refusesBrokenCompactStates(name: String, target: String, replacement: String, expected: String) {
        Self.expectExampleRefused(name, replacing: target, with: replacement, saying: expected)
    }

    /// Checks that ``compactExample`` with its first `target` replaced does not decode, with an
    /// error that says `expected` (and that the replacement changed the example at all).
    static func expectExampleRefused(
        _ name: String, replacing target: String, with replacement: String, saying expected: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let valid = compactExample.replacingOccurrences(of: "\n", with: "")
        let text = valid.replacingFirst(target, with: replacement)
        #expect(text != valid, "the mutation \(name) must change the input", sourceLocation: sourceLocation)
        do {
            _ = try RecordState(jsonString: text)
            Issue.record("\(name) was accepted", sourceLocation: sourceLocation)
        } catch {
            #expect(error.description.contains(expected), "\(name): \(error.description)", sourceLocation: sourceLocation)
        }
    }

    /// What a peer that predates the compact form is sent: cx's bytes and PostgreSQL's `jsonb`
    /// printing are expanded; expanded bytes and bytes that do not read go as they are.
    @Test func statesForOlderPeersAreExpanded() throws {
        let state = try RecordState(jsonString: Self.compactExample)
        let expanded = state.jsonBytes(.expanded)
        #expect(RecordState.expandedJSON(state.jsonBytes()) == expanded)
        let printedByJSONB = Array(#"{"v": 2, "id": "0b6f3a52-7c1d-4e8a-9f30-2d5c8e41a7b9", "kind": "customer", "tags": {"wholesale": [[0, 3]]}, "clock": [3], "fields": {"name": [["Müller & Söhne KG", 0, 1]], "phone": [["+49 30 1234567", 0, 2]]}, "writes": [[0, 1795166100000, "anna"]], "deletion": [], "replicas": ["anna-laptop"]}"#.utf8)
        #expect(RecordState.expandedJSON(printedByJSONB) == expanded)
        #expect(RecordState.expandedJSON(expanded) == expanded)
        let broken = Array(#"{"v":2,"id":"x"}"#.utf8)
        #expect(RecordState.expandedJSON(broken) == broken)
    }

    @Test func anExpandedStateWithCompactPartsIsRefused() {
        let expanded = Self.expandedExample.replacingOccurrences(of: "\n", with: "")
        let mixed = expanded.replacingFirst(#""wholesale":[["anna-laptop",3]]"#, with: #""wholesale":[[0,3]]"#)
        #expect(mixed != expanded)
        #expect(throws: StateDecodingError.self) { try RecordState(jsonString: mixed) }
    }

    @Test func timesBeforeTheEpochAndUsersWithoutNamesRoundTrip() throws {
        var state = try RecordState.new(
            kind: .customer, id: "0d9c6c1e-8a55-4d2e-9f5e-0b7a1c2d3e4f", fields: ["name": "Acme"],
            by: Author(replica: "r1", user: nil, at: Timestamp(millisecondsSinceEpoch: -62_135_596_800_000)))
        try state.set("phone", to: nil, by: Author(replica: "r2", user: "bo", at: Timestamp(millisecondsSinceEpoch: -1)))
        state.delete(by: Author(replica: "r2", at: Timestamp(millisecondsSinceEpoch: 253_402_300_799_999)))
        let text = state.jsonString()
        #expect(text.contains(#""writes":[[0,-62135596800000,null],[1,-1,"bo"],[1,253402300799999,null]]"#), "\(text)")
        #expect(try RecordState(jsonString: text) == state)
        #expect(try RecordState(jsonString: state.jsonString(.expanded)) == state)
    }
}
