/// Rules for replica ids: 1–100 bytes, no control characters.
public enum ReplicaID {
    /// The longest replica id accepted, in UTF-8 bytes.
    public static let maximumLength = 100

    /// Whether `text` is an acceptable replica id.
    public static func isValid(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= maximumLength
            && !TextBytes.containsControlCharacter(text)
    }
}
