import CXModel

/// The opaque cursor of a snapshot page (docs/sync-protocol.md §2a):
/// `s<through>.<epoch>.<c|a>` optionally followed by `.<last id>` — the sequence number the
/// snapshot began at, the epoch of the database that numbered it, the table the snapshot is in
/// (customers, then activities) and the last id it delivered there.
enum SnapshotCursor {
    /// A parsed snapshot cursor.
    struct Position: Sendable, Equatable {
        /// Every change numbered up to this was in the tables when the snapshot began: the
        /// snapshot's last page hands out `c<through>.<epoch>`, and the changes after it follow.
        var through: Int64
        var epoch: String
        /// The table the snapshot is in.
        var kind: RecordKind
        /// The last id delivered from that table (`nil`: none yet).
        var after: String?
    }

    /// Whether `text` is a snapshot cursor (rather than a regular one), well formed or not.
    static func isSnapshotCursor(_ text: String) -> Bool {
        text.hasPrefix("s")
    }

    /// Parses a snapshot request's cursor: `nil` (the snapshot's start) or a cursor of a
    /// snapshot reply. Anything else is `400 invalid_cursor`.
    static func parse(_ text: String?) throws(APIError) -> Position? {
        guard let text else { return nil }
        let invalid = APIError.badRequest(
            "invalid_cursor", "cursor '\(text.prefix(100))' is not one of a snapshot reply; send null to begin a snapshot")
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 || parts.count == 4, parts[0].hasPrefix("s") else { throw invalid }
        let digits = parts[0].dropFirst()
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }),
            digits.first != "0" || digits.count == 1, let through = Int64(digits)
        else { throw invalid }
        let epoch = parts[1]
        guard epoch.utf8.count == 12, epoch.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw invalid
        }
        let kind: RecordKind
        switch parts[2] {
        case "c": kind = .customer
        case "a": kind = .activity
        default: throw invalid
        }
        var after: String?
        if parts.count == 4 {
            guard RecordID.canonical(parts[3]) == parts[3] else { throw invalid }
            after = parts[3]
        }
        return Position(through: through, epoch: epoch, kind: kind, after: after)
    }

    static func format(_ position: Position) -> String {
        let table = position.kind == .customer ? "c" : "a"
        return "s\(position.through).\(position.epoch).\(table)" + (position.after.map { "." + $0 } ?? "")
    }
}
