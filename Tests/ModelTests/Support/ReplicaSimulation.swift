@testable import CXModel
import CXSampleData

/// Several replicas of one customer record doing random local writes and exchanging states in
/// random order, with duplicates and re-deliveries, as laptops syncing through a server would.
///
/// Every write is logged with the dots it superseded at its replica, which lets a test check
/// that a write disappears only because a replica that had seen it overwrote it.
struct ReplicaSimulation {
    struct Write {
        enum Target: Hashable { case field(String), tag(String), deletion }
        let target: Target
        let dot: Dot?
        /// Dots of the same target the writer held (and so replaced) when it wrote.
        let superseded: Set<Dot>
    }

    static let fieldNames = ["name", "phone", "email", "city", "territory", "notes", "extra.tier"]
    static let tagNames = ["vip", "b2b", "churn-risk"]

    var rng: SeededRandomGenerator
    var replicas: [RecordState]
    let replicaIDs: [String]
    var inFlight: [RecordState] = []
    var inFlightTargets: [Int] = []
    var writes: [Write] = []
    var clockMillis: Int64 = 1_790_000_000_000

    init(seed: UInt64, replicaCount: Int) {
        rng = SeededRandomGenerator(seed: seed)
        replicaIDs = (0..<replicaCount).map { "replica-\($0)" }
        let origin = try! RecordState.new(
            kind: .customer, id: "6f1c2a8e-1b7d-4c59-9a0e-3d2f4b5c6d7e", fields: ["name": "Acme"],
            by: Author(replica: "origin", user: "seed", at: Timestamp(millisecondsSinceEpoch: clockMillis)))
        replicas = Array(repeating: origin, count: replicaCount)
        writes.append(Write(target: .field("name"), dot: origin.register("name")!.entries[0].dot, superseded: []))
    }

    mutating func author(_ index: Int) -> Author {
        // Wall clocks are skewed and may go backwards: `at` must never matter for causality.
        clockMillis += Int64.random(in: -5_000...60_000, using: &rng)
        return Author(replica: replicaIDs[index], user: "user\(index)", at: Timestamp(millisecondsSinceEpoch: clockMillis))
    }

    /// One random step: a local write at some replica, a send, or a delivery.
    mutating func step() {
        let index = Int.random(in: 0..<replicas.count, using: &rng)
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<40: randomWrite(at: index)
        case 40..<70: send(from: index)
        default: deliverOne()
        }
    }

    mutating func randomWrite(at index: Int) {
        var state = replicas[index]
        let author = author(index)
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<55:
            let field = Self.fieldNames.randomElement(using: &rng)!
            let superseded = Set(state.register(field)?.entries.map(\.dot) ?? [])
            let value: String? = field == "name" || Bool.random(using: &rng) ? "v\(Int.random(in: 0..<1000, using: &rng))" : nil
            let fieldValue = field == "email" ? value.map { "\($0)@example.com" } : value
            try! state.set(field, to: fieldValue, by: author)
            writes.append(Write(target: .field(field), dot: state.register(field)!.entries[0].dot, superseded: superseded))
        case 55..<70:
            let tag = Self.tagNames.randomElement(using: &rng)!
            let superseded = Set(state.tags.first { $0.tag == tag }?.dots ?? [])
            try! state.addTag(tag, by: author)
            writes.append(Write(target: .tag(tag), dot: state.tags.first { $0.tag == tag }!.dots[0], superseded: superseded))
        case 70..<80:
            let tag = Self.tagNames.randomElement(using: &rng)!
            let superseded = Set(state.tags.first { $0.tag == tag }?.dots ?? [])
            state.removeTag(tag, by: author)
            writes.append(Write(target: .tag(tag), dot: nil, superseded: superseded))
        case 80..<88:
            let superseded = Set(state.deletion.map(\.dot))
            state.delete(by: author)
            writes.append(Write(target: .deletion, dot: state.deletion[0].dot, superseded: superseded))
        case 88..<94:
            let superseded = Set(state.deletion.map(\.dot))
            state.restore(by: author)
            writes.append(Write(target: .deletion, dot: state.deletion[0].dot, superseded: superseded))
        default:
            // Resolve the first conflict, if any, by picking a candidate value.
            guard let conflict = state.conflicts.first else { return }
            if conflict.field == RecordState.deletedPseudoField {
                let superseded = Set(state.deletion.map(\.dot))
                try! state.resolve(conflict.field, to: Bool.random(using: &rng) ? "keep" : "delete", by: author)
                writes.append(Write(target: .deletion, dot: state.deletion[0].dot, superseded: superseded))
            } else {
                let superseded = Set(state.register(conflict.field)!.entries.map(\.dot))
                let pick = conflict.candidates.randomElement(using: &rng)!
                try! state.resolve(conflict.field, to: pick.value, by: author)
                writes.append(
                    Write(target: .field(conflict.field), dot: state.register(conflict.field)!.entries[0].dot, superseded: superseded))
            }
        }
        replicas[index] = state
    }

    mutating func send(from index: Int) {
        let target = Int.random(in: 0..<replicas.count, using: &rng)
        inFlight.append(replicas[index])
        inFlightTargets.append(target)
    }

    /// Delivers a random in-flight state; sometimes keeps it in flight for a re-delivery.
    mutating func deliverOne() {
        guard !inFlight.isEmpty else { return }
        let message = Int.random(in: 0..<inFlight.count, using: &rng)
        let target = inFlightTargets[message]
        replicas[target].merge(inFlight[message])
        if Int.random(in: 0..<4, using: &rng) != 0 {
            inFlight.remove(at: message)
            inFlightTargets.remove(at: message)
        }
    }

    /// Delivers everything still in flight and then lets every replica exchange with every
    /// other in a random order until all have seen all.
    mutating func quiesce() {
        while !inFlight.isEmpty {
            let message = Int.random(in: 0..<inFlight.count, using: &rng)
            replicas[inFlightTargets[message]].merge(inFlight[message])
            inFlight.remove(at: message)
            inFlightTargets.remove(at: message)
        }
        var pairs = [(Int, Int)]()
        for a in replicas.indices { for b in replicas.indices where a != b { pairs.append((a, b)) } }
        for _ in 0..<2 {
            pairs.shuffle(using: &rng)
            for (from, to) in pairs { replicas[to].merge(replicas[from]) }
        }
    }

    /// The dots `state` holds for a target.
    static func dots(of target: Write.Target, in state: RecordState) -> Set<Dot> {
        switch target {
        case .field(let name): Set(state.register(name)?.entries.map(\.dot) ?? [])
        case .tag(let tag): Set(state.tags.first { $0.tag == tag }?.dots ?? [])
        case .deletion: Set(state.deletion.map(\.dot))
        }
    }

    /// Writes that vanished from `state` although no writer that had seen them replaced them.
    func lostWrites(in state: RecordState) -> [Write] {
        var supersededByTarget: [Write.Target: Set<Dot>] = [:]
        for write in writes { supersededByTarget[write.target, default: []].formUnion(write.superseded) }
        return writes.filter { write in
            guard let dot = write.dot else { return false }
            return !Self.dots(of: write.target, in: state).contains(dot)
                && !(supersededByTarget[write.target]?.contains(dot) ?? false)
        }
    }
}
