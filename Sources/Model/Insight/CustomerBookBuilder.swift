/// Builds a ``CustomerBook`` from a whole cache's facts lines, fast: a report reads 600,000 of
/// them, and adding each to a book one by one spends most of its time hashing and comparing
/// 36-byte customer ids as `String`s and growing one small array per customer.
///
/// Plain lines (see ``PlainFactsLine``) are read straight from their bytes: no `InsightFacts`,
/// no `String` per value or for an activity's own id. Activities are gathered per customer
/// under a fixed-size key of the id's bytes, and each customer's id becomes a `String` once.
/// Any other line goes through ``InsightFacts/init(jsonBytes:)``. The book built is the one
/// ``CustomerBook/add(_:)-(InsightFacts)`` would build from the same facts in the same order.
public struct CustomerBookBuilder {
    var book = CustomerBook()
    private var line = PlainFactsLine()
    var slotOfKey: [IDKey: Int32] = [:]
    var slotOfOtherID: [String: Int32] = [:]
    var slotIDs: [String] = []
    /// The customer record of each slot, once its line was read (activities may come first).
    var slotCustomers: [CustomerBook.Customer?] = []
    var purchases: [(slot: Int32, on: CalendarDate, amount: Money, margin: DecimalText?, dueOn: CalendarDate, paidOn: CalendarDate?)] = []
    var referrals: [(slot: Int32, on: CalendarDate)] = []

    /// Whether ``slotOfKey`` and ``slotOfOtherID`` know every slot: a builder read from a
    /// ``BookFile`` numbers its customers by position and indexes their ids only when a
    /// journal record needs a lookup.
    var slotsIndexed = true

    /// An empty builder.
    public init() {}

    /// An empty builder with room for about `customers` customers (saves growing its tables).
    public init(expectedCustomers customers: Int) {
        book.customers.reserveCapacity(customers)
        slotOfKey.reserveCapacity(customers)
        slotIDs.reserveCapacity(customers)
        slotCustomers.reserveCapacity(customers)
    }

    /// Whether nothing was added yet.
    private var isEmpty: Bool { book.customers.isEmpty && book.ratings.isEmpty && slotIDs.isEmpty }

    /// Adds everything `other` gathered after what this builder holds, as if `other`'s lines
    /// had been added here (lines read by several workers are joined in file order).
    public mutating func append(_ other: CustomerBookBuilder) {
        if isEmpty { return self = other }
        for (id, customer) in other.book.customers { book.customers[id] = customer }
        book.ratings.append(contentsOf: other.book.ratings)
        let slots = other.slotIDs.map { slot(ofID: $0) }
        for (slot, customer) in zip(slots, other.slotCustomers) where customer != nil { slotCustomers[Int(slot)] = customer }
        purchases.reserveCapacity(purchases.count + other.purchases.count)
        for p in other.purchases { purchases.append((slots[Int(p.slot)], p.on, p.amount, p.margin, p.dueOn, p.paidOn)) }
        for r in other.referrals { referrals.append((slots[Int(r.slot)], r.on)) }
    }

    /// Adds the record whose facts are `line`, the JSON array form of ``InsightFacts``; throws
    /// what ``InsightFacts/init(jsonBytes:)`` throws for a line that is not one.
    public mutating func add(factsLine bytes: UnsafeBufferPointer<UInt8>) throws(JSONScanner.Failure) {
        guard line.read(bytes) else { return add(try InsightFacts(jsonBytes: bytes)) }
        guard !line.isDeleted else { return }
        let v = line.values
        func text(_ range: Range<Int>?) -> String? {
            range.map { String(decoding: UnsafeBufferPointer(rebasing: bytes[$0]), as: UTF8.self) }
        }
        func value(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[range]) }
        func date(_ range: Range<Int>?) -> CalendarDate? { range.flatMap { CalendarDate(utf8: value($0)) } }
        switch line.kind {
        case .customer:
            // InsightFacts.customerFields: name, territory, owner, segment.
            let id = text(line.id)!
            let customer = CustomerBook.Customer(id: id, name: text(v[0]) ?? "", territory: text(v[1]), owner: text(v[2]), segment: text(v[3]))
            book.customers[id] = customer
            slotCustomers[Int(slot(of: value(line.id)))] = customer
        case .activity:
            // InsightFacts.activityFields: customer_id, type, on, amount, margin, due_on, paid_on, nps.
            guard let customer = v[0], let type = v[1], let on = date(v[2]) else { return }
            if PlainFactsLine.bytes(bytes, type, equal: "purchase") {
                guard let amount = v[3].flatMap({ Money(utf8: value($0)) }) else { return }
                purchases.append(
                    (slot(of: value(customer)), on, amount, v[4].flatMap { DecimalText(utf8: value($0)) },
                     date(v[5]) ?? on.adding(days: 30), date(v[6])))
            } else if PlainFactsLine.bytes(bytes, type, equal: "referral") {
                referrals.append((slot(of: value(customer)), on))
            } else if PlainFactsLine.bytes(bytes, type, equal: "touchpoint"), let score = text(v[7]).flatMap({ Int($0) }) {
                book.ratings.append(CustomerBook.Rating(customerID: slotIDs[Int(slot(of: value(customer)))], on: on, score: score))
            }
        }
    }

    /// Adds the facts of one record (ignored when deleted or incomplete).
    public mutating func add(_ facts: InsightFacts) {
        guard !facts.isDeleted else { return }
        guard facts.kind == .activity else {
            book.add(facts)
            if let customer = book.customers[facts.id] { slotCustomers[Int(slot(ofID: facts.id))] = customer }
            return
        }
        // Rare (lines the general parser reads, old generations): read through a one-record book.
        var single = CustomerBook()
        single.add(facts)
        for (customerID, list) in single.purchases {
            let slot = slot(ofID: customerID)
            for p in list { purchases.append((slot, p.on, p.amount, p.margin, p.dueOn, p.paidOn)) }
        }
        for (customerID, list) in single.referrals {
            let slot = slot(ofID: customerID)
            for r in list { referrals.append((slot, r.on)) }
        }
        for rating in single.ratings {
            let slot = slot(ofID: rating.customerID)
            book.ratings.append(CustomerBook.Rating(customerID: slotIDs[Int(slot)], on: rating.on, score: rating.score))
        }
    }

    /// Adds one record state (ignored when deleted or incomplete).
    public mutating func add(_ state: RecordState) {
        guard !state.isDeleted else { return }
        add(InsightFacts(state))
    }

    /// The book: each customer's purchases and referrals in the order they were added, in one
    /// exactly sized array per customer, and every customer gathered with its history.
    public consuming func build() -> CustomerBook {
        var book = book
        let purchaseLists = Self.lists(count: slotIDs.count, of: purchases, slot: { $0.slot }) { p in
            CustomerBook.Purchase(on: p.on, amount: p.amount, margin: p.margin, dueOn: p.dueOn, paidOn: p.paidOn)
        }
        let referralLists = Self.lists(count: slotIDs.count, of: referrals, slot: { $0.slot }) { r in CustomerBook.Referral(on: r.on) }
        book.purchases.reserveCapacity(purchaseLists.count { !$0.isEmpty })
        book.referrals.reserveCapacity(referralLists.count { !$0.isEmpty })
        var gathered: [(customer: CustomerBook.Customer, history: CustomerBook.History)] = []
        gathered.reserveCapacity(book.customers.count)
        for (slot, id) in slotIDs.enumerated() {
            if !purchaseLists[slot].isEmpty { book.purchases[id] = purchaseLists[slot] }
            if !referralLists[slot].isEmpty { book.referrals[id] = referralLists[slot] }
            if let customer = slotCustomers[slot] {
                gathered.append((customer, CustomerBook.History(purchases: purchaseLists[slot], referrals: referralLists[slot])))
            }
        }
        book.gathered = gathered
        return book
    }

    /// Each slot's elements in the order their entries were added, in one exactly sized array
    /// per slot. A counting sort: every array is written once, in place, where appending half a
    /// million elements to 100,000 nested arrays checks each one's uniqueness on every append.
    private static func lists<Entry, Element>(
        count: Int, of entries: [Entry], slot: (Entry) -> Int32, element: (Entry) -> Element
    ) -> [[Element]] {
        var start = [Int](repeating: 0, count: count + 1)
        for entry in entries { start[Int(slot(entry)) + 1] += 1 }
        for s in 0..<count { start[s + 1] += start[s] }
        var order = [Int32](repeating: 0, count: entries.count)
        var next = start
        for (index, entry) in entries.enumerated() {
            let s = Int(slot(entry))
            order[next[s]] = Int32(index)
            next[s] += 1
        }
        return (0..<count).map { s in
            let range = start[s]..<start[s + 1]
            guard !range.isEmpty else { return [] }
            return Array(unsafeUninitializedCapacity: range.count) { buffer, initialized in
                for (k, index) in order[range].enumerated() { buffer.initializeElement(at: k, to: element(entries[Int(index)])) }
                initialized = range.count
            }
        }
    }

    mutating func slot(ofID id: String) -> Int32 {
        var id = id
        return id.withUTF8 { bytes in slot(of: bytes) }
    }

    /// Indexes the ids of every slot made without a lookup (see ``slotsIndexed``).
    private mutating func indexSlots() {
        slotsIndexed = true
        slotOfKey.reserveCapacity(slotIDs.count)
        for (slot, id) in slotIDs.enumerated() {
            var id = id
            id.withUTF8 { bytes in
                if bytes.count == IDKey.size { slotOfKey[IDKey(bytes)] = Int32(slot) } else { slotOfOtherID[String(decoding: bytes, as: UTF8.self)] = Int32(slot) }
            }
        }
    }

    /// The slot of the customer whose id is `bytes` (valid UTF-8), made on first sight.
    mutating func slot(of bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        if !slotsIndexed { indexSlots() }
        let next = Int32(slotIDs.count)
        let slot: Int32
        if bytes.count == IDKey.size {
            slot = slotOfKey[IDKey(bytes), default: next]
            if slot == next { slotOfKey[IDKey(bytes)] = next }
        } else {
            let id = String(decoding: bytes, as: UTF8.self)
            slot = slotOfOtherID[id, default: next]
            if slot == next { slotOfOtherID[id] = next }
        }
        if slot == next {
            slotIDs.append(String(decoding: bytes, as: UTF8.self))
            slotCustomers.append(nil)
        }
        return slot
    }
}

/// The 36 bytes of a record id (a UUID's text) as five machine words: hashed and compared
/// without the per-`String` work of a dictionary keyed by the id's text.
struct IDKey: Hashable {
    static let size = 36
    let a: UInt64, b: UInt64, c: UInt64, d: UInt64, e: UInt32

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        let raw = UnsafeRawPointer(bytes.baseAddress!)
        a = raw.loadUnaligned(as: UInt64.self)
        b = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        c = raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        d = raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        e = raw.loadUnaligned(fromByteOffset: 32, as: UInt32.self)
    }

    /// One word into the hasher instead of five: the words are folded first (a UUID's text is
    /// random in every word), and equality still compares all 36 bytes.
    func hash(into hasher: inout Hasher) {
        hasher.combine((((a &* 31 &+ b) &* 31 &+ c) &* 31 &+ d) &* 31 &+ UInt64(e))
    }
}
