import CXModel
import Foundation

/// The small `--json` documents of the commands, written with `Codable`. Keys are sorted, so
/// the bytes are stable for scripts; an unknown value is `null`, never a missing key.
enum CommandDocuments {
    /// `cx add … --json` and the other commands that create a record: `{"id"}`.
    struct Created: Encodable {
        var id: String
    }

    /// `cx init --json`: `{"online","replica_id","server","user"}`.
    struct Initialised: Encodable {
        var replicaID: String
        var server: String?
        var user: String?
        var online: Bool

        private enum CodingKeys: String, CodingKey { case replicaID = "replica_id", server, user, online }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(replicaID, forKey: .replicaID)
            try container.encode(server, forKey: .server)
            try container.encode(user, forKey: .user)
            try container.encode(online, forKey: .online)
        }
    }

    /// `cx import --json`: `{"created","dry_run","unchanged","updated"}`.
    struct Imported: Encodable {
        var created: Int
        var updated: Int
        var unchanged: Int
        var dryRun: Bool

        private enum CodingKeys: String, CodingKey { case created, updated, unchanged, dryRun = "dry_run" }
    }

    /// `cx status --json`: `{"activities","conflicts","customers","last_sync","pending",
    /// "replica_id","scope","server","user"}`.
    struct Status: Encodable {
        var replicaID: String?
        var server: String?
        var user: String?
        var pending: Int
        var lastSync: String?
        var conflicts: Int
        var customers: Int
        var activities: Int
        var scope: SyncScope?

        private enum CodingKeys: String, CodingKey {
            case replicaID = "replica_id", server, user, pending, lastSync = "last_sync", conflicts, customers, activities, scope
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(replicaID, forKey: .replicaID)
            try container.encode(server, forKey: .server)
            try container.encode(user, forKey: .user)
            try container.encode(pending, forKey: .pending)
            try container.encode(lastSync, forKey: .lastSync)
            try container.encode(conflicts, forKey: .conflicts)
            try container.encode(customers, forKey: .customers)
            try container.encode(activities, forKey: .activities)
            try container.encode(scope, forKey: .scope)
        }
    }

    /// `document` as JSON bytes, keys sorted.
    static func bytes(_ document: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(document))
    }
}
