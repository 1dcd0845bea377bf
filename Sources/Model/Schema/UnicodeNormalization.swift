/// The one spelling of text that names something (territories, tags, user names, field values).
///
/// Swift compares strings by canonical equivalence, so "Zürich" written with a precomposed
/// `ü` (NFC) and with `u` + combining diaeresis (NFD) are `==` in Swift — but not in PostgreSQL,
/// JSON keys or byte comparisons. Every boundary that accepts such text (the Schema for field
/// values and tags, the server's user and territory commands, the sync decoder) stores it in
/// Normalization Form C, so one name has one spelling everywhere. PostgreSQL's
/// `normalize(text, NFC)` gives the same result for stored data (migration 0005).
public enum UnicodeNormalization {
    /// `text` in Normalization Form C. ASCII text is returned as is, without copying.
    public static func nfc(_ text: String) -> String {
        if TextBytes.isASCII(text) { return text }
        // The standard library's NFC (the same tables as its String comparison); Foundation's
        // `precomposedStringWithCanonicalMapping` is not available to this Foundation-free module.
        return String(decoding: text._nfcCodeUnits, as: UTF8.self)
    }

    /// Whether `text` is already in Normalization Form C, byte for byte.
    public static func isNFC(_ text: String) -> Bool {
        nfc(text).utf8.elementsEqual(text.utf8)
    }
}
