import CXModel
import CXSampleData
import Testing

@testable import CXServer

/// The write rules of docs/security.md, decided without a database.
@Suite struct AccessScopeTests {
    let rep = AccessScope(role: .rep, territories: ["north"], handoffTerritories: ["east"])
    let manager = AccessScope(role: .manager, territories: ["north", "south"], handoffTerritories: [])
    let id = "3f2a9c1e-0000-4000-8000-000000000001"

    func code(_ rejection: RecordStore.Rejection?) -> String? { rejection?.code.rawValue }

    @Test func newCustomers() {
        #expect(code(rep.refusal(customer: id, stored: nil, mergedTerritory: "north")) == nil)
        #expect(code(rep.refusal(customer: id, stored: nil, mergedTerritory: "south")) == "territory_not_held")
        #expect(code(rep.refusal(customer: id, stored: nil, mergedTerritory: nil)) == "territory_required")
        #expect(code(rep.refusal(customer: id, stored: nil, mergedTerritory: "east")) == "territory_not_held", "a removed territory takes no new customers")
        #expect(code(AccessScope.unrestricted.refusal(customer: id, stored: nil, mergedTerritory: nil)) == nil)
    }

    @Test func editsAndMoves() {
        let north = CustomerScopeFacts(territory: "north")
        #expect(code(rep.refusal(customer: id, stored: north, mergedTerritory: "north")) == nil)
        #expect(code(rep.refusal(customer: id, stored: north, mergedTerritory: "south")) == "territory_not_held")
        #expect(code(rep.refusal(customer: id, stored: north, mergedTerritory: nil)) == "territory_not_held")
        #expect(code(manager.refusal(customer: id, stored: north, mergedTerritory: "south")) == nil, "a manager moves between her territories")
        #expect(code(manager.refusal(customer: id, stored: north, mergedTerritory: "west")) == "territory_not_held")
        let south = CustomerScopeFacts(territory: "south")
        #expect(code(rep.refusal(customer: id, stored: south, mergedTerritory: "south")) == "out_of_scope")
        #expect(code(rep.refusal(customer: id, stored: south, mergedTerritory: "north")) == "out_of_scope", "nobody pulls a customer into their territory")
        let unassigned = CustomerScopeFacts(territory: nil)
        #expect(code(rep.refusal(customer: id, stored: unassigned, mergedTerritory: "north")) == "out_of_scope")
    }

    @Test func handOff() {
        // The customer left the rep's territory for the south: edits that keep it there pass.
        let movedAway = CustomerScopeFacts(territory: "south", recentlyLeft: ["north"])
        #expect(code(rep.refusal(customer: id, stored: movedAway, mergedTerritory: "south")) == nil)
        #expect(code(rep.refusal(customer: id, stored: movedAway, mergedTerritory: "north")) == "territory_not_held")
        // The rep lost the east: its customers' edits pass during the window.
        let inLostTerritory = CustomerScopeFacts(territory: "east")
        #expect(code(rep.refusal(customer: id, stored: inLostTerritory, mergedTerritory: "east")) == nil)
        // Someone else's former territory gives nothing.
        let leftWest = CustomerScopeFacts(territory: "south", recentlyLeft: ["west"])
        #expect(code(rep.refusal(customer: id, stored: leftWest, mergedTerritory: "south")) == "out_of_scope")
    }

    @Test func activitiesFollowTheirCustomer() {
        #expect(code(rep.refusal(activity: id, customers: [("c1", CustomerScopeFacts(territory: "north"))])) == nil)
        #expect(code(rep.refusal(activity: id, customers: [("c1", CustomerScopeFacts(territory: "south"))])) == "out_of_scope")
        #expect(code(rep.refusal(activity: id, customers: [("c1", nil)])) == "unknown_customer")
        #expect(code(rep.refusal(activity: id, customers: [("c1", CustomerScopeFacts(territory: "south", recentlyLeft: ["north"]))])) == nil)
        // Re-pointing an activity needs both customers in scope.
        #expect(code(rep.refusal(activity: id, customers: [
            ("c1", CustomerScopeFacts(territory: "north")), ("c2", CustomerScopeFacts(territory: "south")),
        ])) == "out_of_scope")
    }
}

/// Which displayed values an audit row records.
@Suite struct AuditEntryTests {
    let author = Author(replica: "laptop", user: "alice", at: Timestamp(millisecondsSinceEpoch: 1_795_000_000_000))

    @Test func anInsertListsEveryValueAndAnUpdateOnlyWhatChanged() throws {
        let created = try RecordState.new(
            kind: .customer, fields: ["name": "Acme", "territory": "north", "extra.size": "big"], tags: ["b", "a"], by: author)
        #expect(AuditEntry.fieldChanges(previous: nil, merged: created) == [
            .init(field: "name", from: nil, to: "Acme"), .init(field: "territory", from: nil, to: "north"),
            .init(field: "extra.size", from: nil, to: "big"), .init(field: "tags", from: nil, to: "a, b"),
        ])
        var edited = created
        try edited.set("territory", to: "south", by: author)
        try edited.set("extra.size", to: nil, by: author)
        edited.removeTag("a", by: author)
        #expect(AuditEntry.fieldChanges(previous: created, merged: edited) == [
            .init(field: "territory", from: "north", to: "south"), .init(field: "extra.size", from: "big", to: nil),
            .init(field: "tags", from: "a, b", to: "b"),
        ])
        var deleted = edited
        deleted.delete(by: author)
        #expect(AuditEntry.fieldChanges(previous: edited, merged: deleted) == [.init(field: "deleted", from: nil, to: "true")])
        #expect(AuditEntry.fieldChanges(previous: deleted, merged: deleted).isEmpty)
    }

    /// An insert's shortcut lists what the field-by-field comparison with nothing lists, in its
    /// order: customers and activities of the sample book (extra fields, tags, credit notes),
    /// states merged from two replicas (conflicts), and deleted and delete/edit-conflicted ones.
    @Test func anInsertsShortcutAgreesWithTheComparison() throws {
        var rng = SeededRandomGenerator(seed: 16)
        var states = SampleBook.addingCreditNotes(to: SampleBook.generate(seed: 16, customers: 150))
        for index in 0..<150 {
            let (left, right) = SampleCustomers.divergedPair(index: index, conflictRate: 0.5, using: &rng)
            states.append(left.merging(right))
        }
        let customer = try #require(states.first { $0.kind == .customer })
        var deleted = customer
        deleted.delete(by: author)
        var editedWhileDeleted = customer
        try editedWhileDeleted.set("name", to: "Renamed elsewhere", by: Author(replica: "other", user: "bob", at: author.at))
        var extras = try RecordState.new(
            kind: .customer, fields: ["name": "Z", "extra.zeta": "1", "extra.alpha": "2", "extra.Mid": "3"], tags: ["x"], by: author)
        try extras.set("extra.alpha", to: nil, by: author)
        states += [deleted, deleted.merging(editedWhileDeleted), extras]
        #expect(states.contains { $0.kind == .activity } && states.contains(where: \.hasConflicts))
        #expect(states.contains(where: \.isDeleted) && states.contains { $0.deletionState == .conflicted })
        #expect(states.contains { !$0.tagNames.isEmpty } && states.contains { $0.displayedFields.contains { $0.name.hasPrefix("extra.") } })
        for state in states {
            #expect(AuditEntry.insertion(of: state, displayed: state.displayedFields) == AuditEntry.comparison(previous: nil, merged: state), "\(state.id)")
        }
        #expect(AuditEntry.insertion(of: extras, displayed: extras.displayedFields).map(\.field) == ["name", "extra.Mid", "extra.zeta", "tags"])
    }
}
