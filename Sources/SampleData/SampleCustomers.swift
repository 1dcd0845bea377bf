import CXModel

/// Realistic customer states for benchmarks: about 15 fields written by an origin replica,
/// then edited on 1–3 other replicas, some of them concurrently on the same field.
public enum SampleCustomers {
    static let cities = ["Lyon", "Porto", "Leeds", "Graz", "Turku", "Gent", "Bilbao", "Brno"]
    static let territories = ["north", "south", "east", "west", "central"]
    static let segments = ["smb", "mid-market", "enterprise"]

    /// A new customer with 11 schema fields and 4 extra fields, written by `replica`.
    public static func customer(
        index: Int, replica: String, at: Timestamp, using rng: inout SeededRandomGenerator
    ) -> RecordState {
        let city = cities.randomElement(using: &rng)!
        let fields: [String: String?] = [
            "name": "Customer \(index)",
            "company": "Company \(index % 5000) Ltd",
            "email": "buyer\(index)@company\(index % 5000).example",
            "phone": "+33 4 72 \(10 + index % 90) \(10 + index % 77) \(10 + index % 61)",
            "address": "\(1 + index % 200) Rue de la République",
            "city": city,
            "country": "FR",
            "territory": territories.randomElement(using: &rng)!,
            "owner": "rep\(index % 40)",
            "segment": segments.randomElement(using: &rng)!,
            "notes": "Met at the \(city) trade fair; prefers email. Follow up after Q\(1 + index % 4).",
            "extra.industry": ["retail", "food", "logistics", "health"].randomElement(using: &rng)!,
            "extra.size": String(10 + index % 490),
            "extra.source": ["fair", "web", "referral"].randomElement(using: &rng)!,
            "extra.vat": "FR\(10_000_000_000 + index)",
        ]
        // Generated values are valid by construction.
        return try! RecordState.new(
            kind: .customer, id: RecordID.random(using: &rng), fields: fields, tags: ["b2b"],
            by: Author(replica: replica, user: replica, at: at))
    }

    /// Two diverged states of one customer: a common origin edited on 1–3 other replicas, and
    /// with probability `conflictRate` the same field edited concurrently on both sides.
    public static func divergedPair(
        index: Int, conflictRate: Double, using rng: inout SeededRandomGenerator
    ) -> (RecordState, RecordState) {
        let base = Timestamp(millisecondsSinceEpoch: 1_790_000_000_000 + Int64(index) * 1000)
        let origin = customer(index: index, replica: "origin-server", at: base, using: &rng)
        var left = origin, right = origin
        let editable = ["phone", "email", "notes", "city", "segment", "extra.size"]
        let leftReplicas = Int.random(in: 1...2, using: &rng)
        for replica in 0..<leftReplicas {
            let field = editable.randomElement(using: &rng)!
            let author = Author(replica: "laptop-\(replica)", user: "rep\(replica)", at: Timestamp(millisecondsSinceEpoch: base.millisecondsSinceEpoch + 60_000))
            try! left.set(field, to: value(for: field, index: index + replica + 1), by: author)
        }
        let rightAuthor = Author(replica: "laptop-9", user: "rep9", at: Timestamp(millisecondsSinceEpoch: base.millisecondsSinceEpoch + 90_000))
        if Double.random(in: 0..<1, using: &rng) < conflictRate {
            let author = Author(replica: "laptop-0", user: "rep0", at: Timestamp(millisecondsSinceEpoch: base.millisecondsSinceEpoch + 80_000))
            try! left.set("phone", to: value(for: "phone", index: index + 98), by: author)
            try! right.set("phone", to: value(for: "phone", index: index + 99), by: rightAuthor)
        } else {
            try! right.set("company", to: "Company \(index) Group", by: rightAuthor)
        }
        return (left, right)
    }

    static func value(for field: String, index: Int) -> String {
        switch field {
        case "email": return "new\(index)@example.com"
        case "extra.size": return String(index % 1000)
        case "segment": return segments[index % segments.count]
        default: return "\(field) \(index)"
        }
    }
}
