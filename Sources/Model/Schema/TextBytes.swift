/// Byte-level facts about text, read straight from its UTF-8 storage.
///
/// Decoding a record state checks every value, replica id and user name: going through
/// `String.UTF8View`'s generic iteration for each check cost a fifth of the decoder's time.
/// These loops run over the contiguous bytes (which native and small strings both have), where
/// the compiler vectorises them.
enum TextBytes {
    /// Whether `text` is all ASCII and whether it holds a NUL byte, in one pass.
    static func summary(_ text: String) -> (isASCII: Bool, containsNUL: Bool) {
        withBytes(of: text, summary(of:))
    }

    private static func summary(of bytes: UnsafeBufferPointer<UInt8>) -> (isASCII: Bool, containsNUL: Bool) {
        var union: UInt8 = 0
        var smallest: UInt8 = 0xFF
        for byte in bytes {
            union |= byte
            smallest = min(smallest, byte)
        }
        return (union < 0x80, !bytes.isEmpty && smallest == 0)
    }

    /// Whether `text` is all ASCII.
    static func isASCII(_ text: String) -> Bool { summary(text).isASCII }

    /// Whether `text` holds a NUL byte (U+0000).
    static func containsNUL(_ text: String) -> Bool { summary(text).containsNUL }

    /// Whether `text` holds an ASCII control character (U+0000–U+001F or U+007F). In UTF-8 these
    /// bytes never occur inside a longer sequence, so a byte scan finds exactly those scalars.
    static func containsControlCharacter(_ text: String) -> Bool {
        withBytes(of: text) { bytes in bytes.contains { $0 < 0x20 || $0 == 0x7F } }
    }

    /// `body` over the UTF-8 bytes of `text`: its own storage when contiguous (native and small
    /// strings), else a copy.
    static func withBytes<Result>(of text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        text.utf8.withContiguousStorageIfAvailable(body) ?? Array(text.utf8).withUnsafeBufferPointer(body)
    }
}
