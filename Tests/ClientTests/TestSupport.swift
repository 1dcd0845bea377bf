import CXModel
import Foundation
@testable import CXClient

/// A fresh temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "cx-client-tests-" + UUID().uuidString.lowercased()
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

enum Fixtures {
    static let author = Author(replica: "test-laptop", user: "alice", at: Timestamp(millisecondsSinceEpoch: 1_790_000_000_000))

    static func customer(_ name: String, id: String = RecordID.random(), territory: String? = nil, by author: Author = author) -> RecordState {
        try! RecordState.new(kind: .customer, id: id, fields: ["name": name, "territory": territory], tags: ["b2b"], by: author)
    }

    static func purchase(of customer: String, amount: String = "120.00") -> RecordState {
        try! RecordState.new(
            kind: .activity, fields: ["customer_id": customer, "type": "purchase", "on": "2026-03-01", "amount": amount],
            by: author)
    }

    static func open(_ dir: TemporaryDirectory, exclusive: Bool = true) throws -> CacheStore {
        try CacheStore.open(directory: dir.path + "/cache", exclusive: exclusive)
    }
}

/// Reading what the engine sent.
enum Envelope {
    /// The ids of the states pushed in `envelope`, in order.
    static func pushedIDs(_ envelope: [UInt8]) throws -> [String] {
        var raws: [[UInt8]] = []
        try JSONScanner.scan(envelope) { scanner throws(JSONScanner.Failure) in
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                if key == "changes" {
                    try scanner.array { scanner throws(JSONScanner.Failure) in raws.append(try scanner.rawValue()) }
                } else {
                    try scanner.skipValue()
                }
            }
        }
        return try raws.map { try RecordState(jsonBytes: $0).id }
    }

    /// The pull cursor `envelope` asked from (`nil` for a null cursor).
    static func cursor(_ envelope: [UInt8]) throws -> String? {
        var cursor: String?
        try JSONScanner.scan(envelope) { scanner throws(JSONScanner.Failure) in
            try scanner.object { scanner, key throws(JSONScanner.Failure) in
                if key == "cursor" { cursor = try scanner.consumeNull() ? nil : scanner.string() } else { try scanner.skipValue() }
            }
        }
        return cursor
    }
}

extension Fixtures {
    /// Someone else's writes (what the server sends).
    static let server = Author(replica: "server-side", user: "zoe", at: Timestamp(millisecondsSinceEpoch: 1_790_000_000_000))

    static func activity(of customer: String, id: String = RecordID.random(), by author: Author = server) -> RecordState {
        try! RecordState.new(
            kind: .activity, id: id, fields: ["customer_id": customer, "type": "touchpoint", "on": "2026-03-01", "channel": "visit"],
            by: author)
    }
}
