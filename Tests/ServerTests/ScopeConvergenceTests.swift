import CXModel
import CXPostgres
import Testing

@testable import CXServer
import CXSampleData

/// Random histories of creations, edits, moves and late-arriving customers, pulled
/// incrementally by users of different scopes in small pages: after every round each user's
/// copy holds exactly their book — the customers of their territories and those customers'
/// activities — with the server's states.
@Suite(.serverDatabase) struct ScopeConvergenceTests {
    static let territories = ["north", "south", "east"]

    /// One user's local copy, fed by incremental pulls as a client would.
    struct Replica {
        let scope: AccessScope
        var cursor: Int64 = 0
        var states: [String: RecordState] = [:]

        mutating func pull(from store: RecordStore, pageSize: Int) async throws {
            while true {
                let page = try await store.pull(after: cursor, limit: pageSize, scope: scope)
                for text in page.states {
                    let state = try RecordState(jsonString: text)
                    states[state.id] = states[state.id]?.merging(state) ?? state
                }
                for customer in page.removed {
                    states[customer] = nil
                    for (id, state) in states where state.kind == .activity && state.displayedValue("customer_id") == customer {
                        states[id] = nil
                    }
                }
                cursor = page.lastSequence
                if !page.hasMore { return }
            }
        }
    }

    @Test(arguments: [11, 29, 47])
    func everyUserEndsWithExactlyTheirBook(seed: UInt64) async throws {
        try await withTestDatabase { database in
            try await run(seed: seed, database: database)
        }
    }

    func run(seed: UInt64, database: TestDatabase) async throws {
        let store = RecordStore(pool: database.pool)
        var rng = SeededRandomGenerator(seed: seed)
        var replicas = [
            Replica(scope: AccessScope(role: .rep, territories: ["north"], handoffTerritories: [])),
            Replica(scope: AccessScope(role: .rep, territories: ["south"], handoffTerritories: [])),
            Replica(scope: AccessScope(role: .manager, territories: ["north", "south"], handoffTerritories: [])),
            Replica(scope: AccessScope(role: .rep, territories: ["east"], handoffTerritories: [])),
            Replica(scope: .unrestricted),
        ]
        // The admin's view of every record, to write from.
        var records: [String: RecordState] = [:]
        // Customers that activities may name before they exist.
        var futureCustomers = (0..<6).map { _ in RecordID.random(using: &rng) }
        var minute: Int64 = 0

        for _ in 0..<12 {
            var batch: [RecordState] = []
            for _ in 0..<Int.random(in: 3...10, using: &rng) {
                minute += 1
                let author = Records.author("hq-\(Int.random(in: 0..<3, using: &rng))", minute: minute)
                let customers = records.values.filter { $0.kind == .customer }.map(\.id).sorted()
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<3:
                    // A new customer, sometimes one that activities already name, sometimes without a territory.
                    let id = futureCustomers.isEmpty || Bool.random(using: &rng) ? RecordID.random(using: &rng) : futureCustomers.removeLast()
                    let territory = Int.random(in: 0..<5, using: &rng) == 0 ? nil : Self.territories.randomElement(using: &rng)
                    records[id] = try RecordState.new(kind: .customer, id: id, fields: ["name": "C\(minute)", "territory": territory], by: author)
                    batch.append(records[id]!)
                case 3..<6:
                    // An activity of an existing customer, or of one that has not arrived yet.
                    let customer = Int.random(in: 0..<4, using: &rng) == 0 || customers.isEmpty
                        ? (futureCustomers.randomElement(using: &rng) ?? RecordID.random(using: &rng)) : customers.randomElement(using: &rng)!
                    let activity = try RecordState.new(
                        kind: .activity, id: RecordID.random(using: &rng),
                        fields: ["customer_id": customer, "type": "touchpoint", "on": "2026-05-01", "channel": "visit"], by: author)
                    records[activity.id] = activity
                    batch.append(activity)
                case 6..<9:
                    // A move, possibly back where it came from, possibly out of every territory.
                    guard let id = customers.randomElement(using: &rng) else { continue }
                    try records[id]!.set("territory", to: [nil, "north", "south", "east"].randomElement(using: &rng)!, by: author)
                    batch.append(records[id]!)
                default:
                    guard let id = customers.randomElement(using: &rng) else { continue }
                    try records[id]!.set("phone", to: "555-\(minute)", by: author)
                    batch.append(records[id]!)
                }
            }
            // Pushed in one or two requests, in random order.
            batch.shuffle(using: &rng)
            let split = Int.random(in: 0...batch.count, using: &rng)
            for part in [Array(batch[..<split]), Array(batch[split...])] where !part.isEmpty {
                let outcome = try await store.push(part, logger: TestDatabase.logger)
                #expect(outcome.rejected.isEmpty)
            }
            // Some users sync this round, in small pages.
            for index in replicas.indices where Bool.random(using: &rng) {
                try await replicas[index].pull(from: store, pageSize: Int.random(in: 1...4, using: &rng))
            }
        }

        let stored = try await database.sql { connection in
            var states: [String: RecordState] = [:]
            for table in ["cx.customers", "cx.activities"] {
                for row in try connection.query(PostgresQuery(unsafeSQL: "SELECT state::text AS state FROM \(table)")) {
                    let state = try RecordState(jsonString: try row.decode("state", as: String.self))
                    states[state.id] = state
                }
            }
            return states
        }
        for index in replicas.indices {
            try await replicas[index].pull(from: store, pageSize: 3)
            let scope = replicas[index].scope
            let book = stored.filter { _, state in
                switch state.kind {
                case .customer: scope.holds(state.displayedValue("territory"))
                case .activity:
                    scope.isUnrestricted
                        || state.displayedValue("customer_id").flatMap { stored[$0] }.map { scope.holds($0.displayedValue("territory")) } == true
                }
            }
            let held = Set(replicas[index].states.keys)
            let missing = Set(book.keys).subtracting(held), extra = held.subtracting(book.keys)
            #expect(missing.isEmpty && extra.isEmpty, "\(scope.role) of \(scope.sortedTerritories): missing \(missing.sorted()), extra \(extra.sorted())")
            let stale = book.filter { id, state in replicas[index].states[id].map { $0 != state } ?? false }.keys
            #expect(stale.isEmpty, "\(scope.role) of \(scope.sortedTerritories): states differ from the server's for \(stale.sorted())")
        }
        #expect(stored.count == records.count)
    }
}
