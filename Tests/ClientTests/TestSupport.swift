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
