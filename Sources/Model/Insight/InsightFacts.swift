/// The few displayed values of one record that classification and the customer-base metrics
/// read (``CustomerBook``), small enough to keep beside every cached state so a report over a
/// whole book reads ~100 bytes a record instead of decoding ~2 KB of CRDT state.
///
/// Its JSON form is one array, `[id, kind, deleted, value…]`, the values in the order of
/// ``fields(of:)`` (`null` when the field shows no value):
/// ```
/// ["0c1e…","customer",false,"Acme","north","rep-n",null]
/// ["8d2f…","activity",false,"0c1e…","purchase","2026-03-02","120.00","0.25",null,null,null]
/// ```
public struct InsightFacts: Hashable, Sendable {
    /// The customer fields a book reads, in order.
    public static let customerFields = ["name", "territory", "owner", "segment"]
    /// The activity fields a book reads, in order.
    public static let activityFields = ["customer_id", "type", "on", "amount", "margin", "due_on", "paid_on", "nps"]

    /// The fields kept for records of `kind`, in order.
    public static func fields(of kind: RecordKind) -> [String] {
        kind == .customer ? customerFields : activityFields
    }

    /// The record id.
    public let id: String
    /// The record kind.
    public let kind: RecordKind
    /// Whether the record is deleted (its state shows a delete without a conflicting edit).
    public let isDeleted: Bool
    /// Displayed values, in the order of ``fields(of:)``.
    public let values: [String?]

    /// Facts with the given values (`values` in the order of ``fields(of:)``).
    public init(id: String, kind: RecordKind, isDeleted: Bool, values: [String?]) {
        precondition(values.count == Self.fields(of: kind).count, "one value per field of \(kind)")
        self.id = id
        self.kind = kind
        self.isDeleted = isDeleted
        self.values = values
    }

    /// The facts of a record state.
    public init(_ state: RecordState) {
        self.init(
            id: state.id, kind: state.kind, isDeleted: state.isDeleted,
            values: Self.fields(of: state.kind).map { state.displayedValue($0) })
    }

    /// The displayed value of `field` (`nil` when empty or not one of ``fields(of:)``).
    public func value(_ field: String) -> String? {
        Self.fields(of: kind).firstIndex(of: field).flatMap { values[$0] }
    }

    /// The JSON array form (no newline).
    public func jsonBytes() -> [UInt8] {
        var w = JSONWriter(capacity: 160)
        w.byte(UInt8(ascii: "["))
        w.string(id)
        w.byte(UInt8(ascii: ","))
        w.string(kind.rawValue)
        w.byte(UInt8(ascii: ","))
        w.bool(isDeleted)
        for value in values {
            w.byte(UInt8(ascii: ","))
            w.optionalString(value)
        }
        w.byte(UInt8(ascii: "]"))
        return w.bytes
    }

    /// Reads the JSON array form; refuses anything else, including a wrong number of values.
    public init(jsonBytes: some Collection<UInt8>) throws(JSONScanner.Failure) {
        var id = "", kind: RecordKind?, deleted = false, values: [String?] = [], position = 0
        try JSONScanner.scan(jsonBytes) { scanner throws(JSONScanner.Failure) in
            try scanner.array { scanner throws(JSONScanner.Failure) in
                switch position {
                case 0: id = try scanner.string()
                case 1:
                    guard let known = RecordKind(rawValue: try scanner.string()) else { throw scanner.failure("unknown record kind") }
                    kind = known
                    values.reserveCapacity(Self.fields(of: known).count)
                case 2: deleted = try scanner.bool()
                default: values.append(try scanner.consumeNull() ? nil : scanner.string())
                }
                position += 1
            }
            try scanner.expectEnd()
            guard let kind, values.count == Self.fields(of: kind).count else {
                throw scanner.failure("expected [id, kind, deleted, \(kind.map { Self.fields(of: $0).joined(separator: ", ") } ?? "values")]")
            }
        }
        self.init(id: id, kind: kind!, isDeleted: deleted, values: values)
    }
}
