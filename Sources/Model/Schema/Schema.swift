/// The fields of each record kind and the rules for their values.
///
/// Besides the fixed fields, both kinds accept free-form `extra.<key>` text fields, where the
/// key is 1–64 letters, digits, `_`, `-` or `.`.
///
/// Text is stored in Unicode Normalization Form C (see ``UnicodeNormalization``), and lengths
/// are counted in Unicode code points (what docs/openapi.yaml calls characters), never in
/// grapheme clusters: "e" followed by 19,999 combining marks is one grapheme but 20,000 code
/// points, and is refused.
public enum Schema {
    /// The longest free text value accepted (name, company, address, notes, …), in code points.
    public static let maximumTextLength = 10_000
    /// The longest value of a field that names or identifies something (territory, owner,
    /// segment, email, phone, city, country, reference), in code points. These fields are
    /// indexed or compared in PostgreSQL; 200 code points (at most 800 bytes) keeps every index
    /// entry far below PostgreSQL's btree limit of about 2,700 bytes.
    public static let maximumNameLength = 200
    /// The longest tag accepted, in code points.
    public static let maximumTagLength = 100
    /// The fields limited to ``maximumNameLength``.
    public static let nameLikeFields: Set<String> = [
        "territory", "owner", "segment", "email", "phone", "city", "country", "reference",
    ]

    /// The longest value accepted for `field`, in Unicode code points.
    public static func maximumLength(of field: String) -> Int {
        nameLikeFieldTable[field] != nil ? maximumNameLength : maximumTextLength
    }
    private static let nameLikeFieldTable = FieldNameTable(nameLikeFields.map { ($0, ()) })
    /// The prefix of free-form fields.
    public static let extraPrefix = "extra."

    /// Customer fields and their types, in display order.
    public static let customerFields: [(name: String, type: FieldType)] = [
        ("name", .requiredText), ("company", .text), ("email", .email), ("phone", .text),
        ("address", .text), ("city", .text), ("country", .text), ("territory", .text),
        ("owner", .text), ("segment", .text), ("notes", .text),
        // The external key of the customer in another system (an ERP's customer number):
        // `cx-server import` finds customers by it.
        ("reference", .text),
    ]

    /// The activity types.
    public static let activityTypes = ["purchase", "referral", "touchpoint"]
    /// The touchpoint channels.
    public static let channels = ["visit", "call", "email", "meeting", "other"]

    /// Activity fields and their types, in display order.
    public static let activityFields: [(name: String, type: FieldType)] = [
        ("customer_id", .recordID), ("type", .oneOf(activityTypes)), ("on", .date),
        ("amount", .amount), ("margin", .fraction), ("due_on", .date), ("paid_on", .date),
        ("reference", .text), ("referred_customer_id", .recordID), ("referred_name", .text),
        ("note", .text), ("channel", .oneOf(channels)), ("nps", .score), ("credits", .recordID),
    ]

    private static let customerTypes = FieldNameTable(customerFields.map { ($0.name, $0.type) })
    private static let activityTypesByField = FieldNameTable(activityFields.map { ($0.name, $0.type) })
    private static let customerPositions = FieldNameTable(customerFields.enumerated().map { ($1.name, $0) })
    private static let activityPositions = FieldNameTable(activityFields.enumerated().map { ($1.name, $0) })

    /// Where `field` is in ``fields(of:)``, or `nil` when it is not one of `kind`'s fixed fields.
    public static func position(of field: String, in kind: RecordKind) -> Int? {
        (kind == .customer ? customerPositions : activityPositions)[field]
    }

    /// The fixed fields of `kind`, in display order.
    public static func fields(of kind: RecordKind) -> [(name: String, type: FieldType)] {
        kind == .customer ? customerFields : activityFields
    }

    /// The type of `field` in records of `kind`, or a validation error naming the valid fields.
    public static func type(of field: String, in kind: RecordKind) throws(RecordValidationError) -> FieldType {
        if let type = (kind == .customer ? customerTypes : activityTypesByField)[field] { return type }
        // By bytes: `hasPrefix` and `dropFirst` on String step through grapheme clusters.
        if field.utf8.starts(with: extraPrefix.utf8) {
            let key = field.utf8.dropFirst(extraPrefix.utf8.count)
            // ASCII only, so bytes are characters.
            guard !key.isEmpty, key.count <= 64,
                key.allSatisfy({ Unicode.Scalar($0).isASCIIKeyCharacter })
            else {
                throw RecordValidationError(
                    field: field,
                    "extra field keys must be 1–64 letters, digits, '_', '-' or '.'")
            }
            return .text
        }
        let known = fields(of: kind).map(\.name).joined(separator: ", ")
        throw RecordValidationError(
            field: field, "unknown \(kind.rawValue) field; use one of \(known), or extra.<key>")
    }

    /// Checks `value` for `field` of `kind` and returns its canonical text.
    ///
    /// `nil` (unset) is accepted for every field but required ones.
    /// - Parameter limitingLength: `false` accepts values longer than today's limits (a value
    ///   stored under earlier rules, see ``StateValueRules``).
    public static func normalize(
        _ value: String?, for field: String, in kind: RecordKind, limitingLength: Bool = true
    ) throws(RecordValidationError) -> String? {
        let type = try type(of: field, in: kind)
        guard let value else {
            if type == .requiredText || kind == .activity && ["customer_id", "type", "on"].contains(field) {
                throw RecordValidationError(field: field, "is required and cannot be unset")
            }
            return nil
        }
        return try normalize(value, as: type, field: field, limitingLength: limitingLength)
    }

    /// Checks a tag: non-empty after trimming, at most `maximumTagLength` code points, one
    /// line; returns it trimmed and in Normalization Form C.
    /// - Parameter limitingLength: `false` accepts a tag longer than today's limit (stored under
    ///   earlier rules, see ``StateValueRules``).
    public static func normalizeTag(_ tag: String, limitingLength: Bool = true) throws(RecordValidationError) -> String {
        let trimmed = UnicodeNormalization.nfc(tag.trimmingWhitespace)
        guard !trimmed.isEmpty else { throw RecordValidationError(field: "tags", "a tag cannot be empty") }
        guard !limitingLength || trimmed.unicodeScalars.count <= maximumTagLength else {
            throw RecordValidationError(
                field: "tags", "a tag can be at most \(maximumTagLength) characters (Unicode code points); shorten it")
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw RecordValidationError(field: "tags", "a tag cannot contain control characters")
        }
        return trimmed
    }

    /// Text may hold any character, control characters included, except U+0000: PostgreSQL
    /// (and many tools downstream) cannot store it in text.
    private static func rejectNUL(_ value: String, field: String) throws(RecordValidationError) {
        if TextBytes.containsNUL(value) {
            throw RecordValidationError(field: field, "cannot contain the NUL character (U+0000)")
        }
    }

    /// Whether `value` has at most `limit` Unicode code points.
    static func isWithin(_ limit: Int, _ value: String) -> Bool {
        // UTF-8 length bounds the code point count; only long values need counting.
        value.utf8.count <= limit || value.unicodeScalars.count <= limit
    }

    /// Refuses text longer than `field` allows, counted in Unicode code points.
    private static func checkLength(_ value: String, field: String, limitingLength: Bool) throws(RecordValidationError) {
        guard limitingLength else { return }
        let limit = maximumLength(of: field)
        guard isWithin(limit, value) else {
            throw RecordValidationError(
                field: field, "is longer than \(limit) characters (Unicode code points); shorten it or put long text in notes")
        }
    }

    private static func normalize(
        _ value: String, as type: FieldType, field: String, limitingLength: Bool
    ) throws(RecordValidationError) -> String {
        switch type {
        case .text:
            try rejectNUL(value, field: field)
            let value = UnicodeNormalization.nfc(value)
            try checkLength(value, field: field, limitingLength: limitingLength)
            return value
        case .requiredText:
            try rejectNUL(value, field: field)
            let value = UnicodeNormalization.nfc(value)
            guard !value.trimmingWhitespace.isEmpty else {
                throw RecordValidationError(field: field, "is required and cannot be empty")
            }
            try checkLength(value, field: field, limitingLength: limitingLength)
            return value
        case .email:
            let email = UnicodeNormalization.nfc(value.trimmingWhitespace)
            try checkLength(email, field: field, limitingLength: limitingLength)
            guard email.isPlausibleEmail else {
                throw RecordValidationError(field: field, "'\(value)' is not an email address (expected name@example.com)")
            }
            return email
        case .recordID:
            guard let id = RecordID.canonical(value) else {
                throw RecordValidationError(field: field, "'\(value)' is not a record id (a UUID)")
            }
            return id
        case .date:
            guard let date = CalendarDate(value) else {
                throw RecordValidationError(field: field, "'\(value)' is not a date (expected YYYY-MM-DD)")
            }
            return date.description
        case .amount:
            // Any sign: zero-value orders are purchases, and a credit note's amount is negative
            // (which purchases may have one is a rule of the record, RecordState.validateCreditNote).
            guard let amount = Money(value) else {
                throw RecordValidationError(
                    field: field, "'\(value)' is not an amount (expected a decimal with at most 2 places, e.g. 120.00, or -20.00 on a credit note)")
            }
            return amount.description
        case .fraction:
            guard let fraction = DecimalText(value), fraction.isWithinUnitRange else {
                throw RecordValidationError(
                    field: field, "'\(value)' is not a margin (expected a fraction between -1 and 1, e.g. 0.12)")
            }
            return fraction.description
        case .score:
            guard value.utf8.count <= 2, let score = Int(value), (0...10).contains(score) else {
                throw RecordValidationError(field: field, "'\(value)' is not a score (expected a whole number 0–10)")
            }
            return String(score)
        case .oneOf(let words):
            guard words.contains(value) else {
                throw RecordValidationError(field: field, "'\(value)' is not one of \(words.joined(separator: ", "))")
            }
            return value
        }
    }
}

extension Unicode.Scalar {
    var isASCIIKeyCharacter: Bool {
        switch value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F, 0x2D, 0x2E: return true
        default: return false
        }
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    var trimmingWhitespace: String {
        // Most values start and end with an ASCII character that is not whitespace (space,
        // U+0009–U+000D): nothing to trim.
        let bytes = utf8
        if let first = bytes.first, let last = bytes.last, first < 0x80, last < 0x80, !first.isASCIIWhitespace,
            !last.isASCIIWhitespace
        {
            return self
        }
        return trimmingWhitespaceByScalars
    }

    /// ``trimmingWhitespace`` for any text, by Unicode scalars.
    var trimmingWhitespaceByScalars: String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[start...end])
    }

    /// A pragmatic email shape check: one `@`, a non-empty local part, a dotted domain, no
    /// spaces. Deliverability is the mail server's business, not ours.
    var isPlausibleEmail: Bool {
        Self.asciiEmailShape(utf8) ?? isPlausibleEmailByCharacters
    }

    /// ``isPlausibleEmail`` for any text, by characters.
    var isPlausibleEmailByCharacters: Bool {
        let parts = split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64 else { return false }
        let domain = parts[1]
        guard domain.count <= 255, !domain.hasPrefix("."), !domain.hasSuffix("."),
            domain.contains("."), !domain.contains("..")
        else { return false }
        return !unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 }
    }

    /// ``isPlausibleEmail`` for an ASCII address, by bytes (in ASCII a character is a byte, and
    /// a carriage return before a line feed is refused as a control character either way);
    /// `nil` for any other text.
    private static func asciiEmailShape(_ bytes: UTF8View) -> Bool? {
        var at: Int?
        var count = 0
        for byte in bytes {
            guard byte < 0x80 else { return nil }
            if byte == UInt8(ascii: "@") {
                if at != nil { return false }
                at = count
            }
            count += 1
        }
        // Checked after the scan so that non-ASCII text always takes the general path.
        guard let at, at > 0, at <= 64 else { return false }
        let domain = bytes.dropFirst(at + 1)
        guard domain.count <= 255, domain.first != UInt8(ascii: "."), domain.last != UInt8(ascii: "."),
            domain.contains(UInt8(ascii: "."))
        else { return false }
        var previous: UInt8 = 0
        for byte in domain {
            if byte == UInt8(ascii: "."), previous == UInt8(ascii: ".") { return false }
            previous = byte
        }
        // Whitespace (space, U+0009–U+000D) and control characters.
        return !bytes.contains { $0 <= 0x20 }
    }
}

extension UInt8 {
    /// Space, tab, line feed, vertical tab, form feed, carriage return: the ASCII characters
    /// with Unicode's White_Space property.
    var isASCIIWhitespace: Bool { self == 0x20 || (0x09...0x0D).contains(self) }
}
