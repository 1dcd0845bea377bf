/// Likely duplicate customers: pairs with the same normalised email, the same normalised phone,
/// or similar names in the same city. `cx duplicates` and the SQL view `cx.duplicate_candidates`
/// (migration 0015) apply the same rules and list the same pairs:
///
/// - **email**: ASCII letters lower-cased (emails hold no spaces; the schema trims them);
/// - **phone**: the ASCII digits only; numbers with fewer than 7 digits are not compared; the
///   last 9 digits are compared, so a leading `+`/`00` and country code, or a national
///   trunk `0`, do not matter (`+49 30 1234567` and `030 1234567` match);
/// - **name**: in the same city (city words joined by one space), the names' trigram
///   similarity is at least ``nameThreshold``. Words are runs of characters other than ASCII
///   punctuation, spaces and controls, ASCII letters lower-cased; each word padded with two
///   spaces in front and one behind gives its trigrams (3 consecutive characters); similarity
///   is shared trigrams / all distinct trigrams of both names: PostgreSQL `pg_trgm`'s
///   `similarity()` for ASCII names.
///
/// Each block (one email, one phone, one city) is searched on its own, and a city's names
/// through an index of their rarest trigrams (a pair with similarity ≥ t must share one of the
/// first `n − ⌈t·n⌉ + 1` trigrams of each name in a fixed order), so the work follows the
/// number of plausible pairs, not the square of the book.
public enum DuplicateFinder {
    /// The least name similarity reported: shared trigrams at least half of all trigrams.
    public static let nameThreshold = (numerator: 1, denominator: 2)

    /// The fields of one customer the rules read.
    public struct Candidate: Hashable, Sendable {
        public var id: String
        public var name: String
        public var email: String?
        public var phone: String?
        public var city: String?

        public init(id: String, name: String, email: String?, phone: String?, city: String?) {
            self.id = id
            self.name = name
            self.email = email
            self.phone = phone
            self.city = city
        }

        /// The displayed fields of a live (or delete-conflicted) customer; `nil` for deleted
        /// records and activities.
        public init?(_ state: RecordState) {
            guard state.kind == .customer, !state.isDeleted else { return nil }
            self.init(
                id: state.id, name: state.displayedValue("name") ?? "", email: state.displayedValue("email"),
                phone: state.displayedValue("phone"), city: state.displayedValue("city"))
        }
    }

    /// Why two customers look alike.
    public enum Reason: String, Hashable, Sendable, CaseIterable, Comparable {
        case email, phone, name

        public static func < (a: Reason, b: Reason) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// A likely duplicate pair; `first` < `second` by id.
    public struct Pair: Hashable, Sendable {
        public var first: Candidate
        public var second: Candidate
        /// Every reason that holds, in the order email, phone, name.
        public var reasons: [Reason]
        /// The name similarity in thousandths (rounded half up), when both have the same city.
        public var similarityThousandths: Int?

        /// The similarity as text with 3 decimals (`0.615`), as the SQL view shows it.
        public var similarityText: String? {
            similarityThousandths.map(DuplicateFinder.similarityText)
        }
    }

    /// A similarity in thousandths as text with 3 decimals (`615` → `0.615`).
    public static func similarityText(_ thousandths: Int) -> String {
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// The pairs among `customers`, ordered by first id, then second id.
    public static func pairs(_ customers: [Candidate]) -> [Pair] {
        struct Key: Hashable { let first: Int, second: Int }
        var found: [Key: Set<Reason>] = [:]
        func note(_ a: Int, _ b: Int, _ reason: Reason) {
            found[Key(first: Swift.min(a, b), second: Swift.max(a, b)), default: []].insert(reason)
        }
        // Index positions in id order, so `first` < `second` by id.
        let customers = customers.sorted { $0.id < $1.id }

        var emails: [String: [Int]] = [:], phones: [String: [Int]] = [:], cities: [String: [Int]] = [:]
        for (index, customer) in customers.enumerated() {
            if let key = customer.email.flatMap(emailKey) { emails[key, default: []].append(index) }
            if let key = customer.phone.flatMap(phoneKey) { phones[key, default: []].append(index) }
            if let key = customer.city.flatMap(cityKey) { cities[key, default: []].append(index) }
        }
        for (blocks, reason) in [(emails, Reason.email), (phones, .phone)] {
            for members in blocks.values where members.count > 1 {
                for i in members.indices { for j in members.indices where j > i { note(members[i], members[j], reason) } }
            }
        }
        var similarity: [Key: Int] = [:]
        for members in cities.values where members.count > 1 {
            for (a, b, thousandths) in similarNames(members.map { customers[$0].name }) {
                let key = Key(first: members[a], second: members[b])
                note(key.first, key.second, .name)
                similarity[key] = thousandths
            }
        }
        // The similarity of pairs found otherwise, when they share a city.
        for key in found.keys where similarity[key] == nil {
            let a = customers[key.first], b = customers[key.second]
            guard let cityA = a.city.flatMap(cityKey), cityA == b.city.flatMap(cityKey) else { continue }
            similarity[key] = measure(trigrams(a.name), trigrams(b.name)).thousandths
        }
        return found.keys.sorted { ($0.first, $0.second) < ($1.first, $1.second) }.map { key in
            Pair(
                first: customers[key.first], second: customers[key.second], reasons: found[key]!.sorted(),
                similarityThousandths: similarity[key])
        }
    }

    // MARK: Normalisation

    /// The email compared: ASCII letters lower-cased; `nil` when empty.
    public static func emailKey(_ email: String) -> String? {
        let key = String(decoding: email.utf8.map(asciiLower), as: UTF8.self)
        return key.isEmpty ? nil : key
    }

    /// The phone compared: the last 9 of its ASCII digits; `nil` under 7 digits.
    public static func phoneKey(_ phone: String) -> String? {
        let digits = phone.utf8.filter { (0x30...0x39).contains($0) }
        guard digits.count >= 7 else { return nil }
        return String(decoding: digits.suffix(9), as: UTF8.self)
    }

    /// The city compared: its words joined by one space; `nil` without words.
    public static func cityKey(_ city: String) -> String? {
        let key = words(city).joined(separator: " ")
        return key.isEmpty ? nil : key
    }

    /// The words of `text`: runs of characters other than ASCII punctuation, spaces and
    /// controls, with ASCII letters lower-cased.
    public static func words(_ text: String) -> [String] {
        var result: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isSeparator(scalar) {
                if !current.isEmpty { result.append(String(current)); current = .init() }
            } else {
                current.append(scalar.value < 0x80 ? Unicode.Scalar(asciiLower(UInt8(scalar.value))) : scalar)
            }
        }
        if !current.isEmpty { result.append(String(current)) }
        return result
    }

    /// Three consecutive characters (Unicode scalars, compared as such: not by canonical
    /// equivalence, as PostgreSQL compares text).
    public struct Trigram: Hashable, Comparable, Sendable {
        let a: UInt32, b: UInt32, c: UInt32

        public static func < (x: Trigram, y: Trigram) -> Bool { (x.a, x.b, x.c) < (y.a, y.b, y.c) }
    }

    /// The distinct trigrams of `text`'s words, each padded as `"  word "`.
    public static func trigrams(_ text: String) -> Set<Trigram> {
        var result: Set<Trigram> = []
        for word in words(text) {
            let padded: [UInt32] = [0x20, 0x20] + word.unicodeScalars.map(\.value) + [0x20]
            for start in 0...(padded.count - 3) {
                result.insert(Trigram(a: padded[start], b: padded[start + 1], c: padded[start + 2]))
            }
        }
        return result
    }

    /// The trigram similarity of two names: whether it reaches the threshold, and its value
    /// in thousandths rounded half up (0 when neither has a trigram).
    public static func similarity(_ a: String, _ b: String) -> (isSimilar: Bool, thousandths: Int) {
        measure(trigrams(a), trigrams(b))
    }

    static func measure(_ a: Set<Trigram>, _ b: Set<Trigram>) -> (isSimilar: Bool, thousandths: Int) {
        let shared = a.intersection(b).count
        let union = a.count + b.count - shared
        guard union > 0 else { return (false, 0) }
        let similar = shared * nameThreshold.denominator >= union * nameThreshold.numerator
        return (similar, (shared * 2000 + union) / (2 * union))
    }

    /// Pairs of similar names among `names` (indices a < b) with their similarity, found
    /// through a prefix index: each name's trigrams in a global order (rarest first, then by
    /// text) and only the first `n − ⌈t·n⌉ + 1` of them indexed; two names with Jaccard
    /// similarity ≥ t always share one of those (the prefix-filtering bound), and every pair so
    /// found is measured exactly.
    static func similarNames(_ names: [String]) -> [(Int, Int, Int)] {
        let sets = names.map(trigrams)
        var frequency: [Trigram: Int] = [:]
        for set in sets { for trigram in set { frequency[trigram, default: 0] += 1 } }
        var index: [Trigram: [Int]] = [:]
        var result: [(Int, Int, Int)] = []
        var compared: Set<Int> = []
        for (position, set) in sets.enumerated() where !set.isEmpty {
            let ordered = set.sorted { (frequency[$0]!, $0) < (frequency[$1]!, $1) }
            let n = ordered.count
            let required = (n * nameThreshold.numerator + nameThreshold.denominator - 1) / nameThreshold.denominator
            let prefix = ordered.prefix(n - required + 1)
            compared.removeAll(keepingCapacity: true)
            for trigram in prefix {
                for other in index[trigram] ?? [] where compared.insert(other).inserted {
                    let (similar, thousandths) = measure(sets[other], set)
                    if similar { result.append((other, position, thousandths)) }
                }
            }
            for trigram in prefix { index[trigram, default: []].append(position) }
        }
        return result
    }

    private static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7F: return true
        default: return false
        }
    }

    private static func asciiLower(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
    }
}
