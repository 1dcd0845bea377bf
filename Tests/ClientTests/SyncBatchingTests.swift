import CXModel
import Testing
@testable import CXClient

/// One record never blocks everything: push batches are bounded by bytes, a 413 splits the
/// batch, an oversized or incomplete state is reported and the rest goes through, and local
/// edits the server would refuse are refused locally.
@Suite struct SyncBatchingTests {
    /// A server with a body limit: answers 413 (as ``SyncClient`` reports it) above `maxBody`
    /// bytes, refuses incomplete states like the real server (the whole request, 422), and
    /// accepts everything else.
    final class LimitedServer: SyncTransport, @unchecked Sendable {
        // Safe: the engine calls `sync` sequentially from one task; tests read after `run` returns.
        let maxBody: Int
        private(set) var accepted: [String] = []
        private(set) var bodies: [Int] = []

        init(maxBody: Int) { self.maxBody = maxBody }

        func sync(_ envelope: [UInt8]) async throws -> SyncResponse {
            bodies.append(envelope.count)
            if envelope.count > maxBody {
                throw PayloadTooLarge(detail: "request body exceeds \(maxBody) bytes (body_too_large)")
            }
            let ids = try Envelope.pushedIDs(envelope)
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
            for raw in raws {
                let state = try RecordState(jsonBytes: raw)
                if (try? state.validateComplete()) == nil {
                    throw CXError(.failure, "the server answered HTTP 422: record \(state.id) is incomplete (invalid_record)")
                }
            }
            accepted += ids
            return SyncResponse(changes: [], cursor: "c\(bodies.count)", hasMore: false)
        }
    }

    /// A customer with about `notes` bytes of notes (split over `notes` and `extra.*` fields,
    /// which hold at most 10,000 characters each).
    func customer(_ index: Int, notes: Int) -> RecordState {
        var fields: [String: String?] = ["name": "Customer \(index)"]
        var left = notes
        var part = 0
        while left > 0 {
            fields[part == 0 ? "notes" : "extra.report\(part)"] = String(repeating: "n", count: Swift.min(left, 9000))
            left -= 9000
            part += 1
        }
        return try! RecordState.new(kind: .customer, fields: fields, by: Fixtures.author)
    }

    func pending(_ dir: TemporaryDirectory, _ states: [RecordState]) throws {
        let store = try Fixtures.open(dir)
        defer { store.close() }
        try store.commit(states.map { .init(state: $0, pending: true) })
    }

    func engine(_ dir: TemporaryDirectory) -> SyncEngine {
        SyncEngine(cacheDirectory: dir.path + "/cache", replicaID: "test-laptop")
    }

    @Test func batchesAreBoundedByBytesAsWellAsCount() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let states = (0..<12).map { customer($0, notes: 1000) }
        try pending(dir, states)
        let server = LimitedServer(maxBody: 1 << 30)
        var engine = engine(dir)
        engine.batchBytes = 3500
        let report = try await engine.run(client: server)
        #expect(Set(server.accepted) == Set(states.map(\.id)))
        #expect(report.pushed == 12)
        #expect(server.bodies.count >= 4)
        #expect(server.bodies.allSatisfy { $0 < 3500 + 500 }, "\(server.bodies)")
    }

    @Test func a413SplitsTheBatchUntilEveryRecordIsThrough() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        // 40 customers of ~1 KB: one request of all of them is over the server's 8 KB limit.
        let states = (0..<40).map { customer($0, notes: 1000) }
        try pending(dir, states)
        let server = LimitedServer(maxBody: 8 * 1024)
        let report = try await engine(dir).run(client: server)
        #expect(Set(server.accepted) == Set(states.map(\.id)))
        #expect(report.rejected.isEmpty)
        #expect(report.pushed == 40)
        let store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        #expect(try store.pendingIDs().isEmpty)
    }

    @Test func aStateTooLargeOnItsOwnIsReportedAndTheOthersGoThrough() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let small = (0..<5).map { customer($0, notes: 100) }
        let huge = customer(99, notes: 20_000)
        try pending(dir, small + [huge])
        let server = LimitedServer(maxBody: 8 * 1024)
        let report = try await engine(dir).run(client: server)
        #expect(Set(server.accepted) == Set(small.map(\.id)))
        #expect(report.rejected.map(\.id) == [huge.id])
        #expect(report.rejected.map(\.code) == [PayloadTooLarge.code])
        let store = try Fixtures.open(dir, exclusive: false)
        defer { store.close() }
        #expect(try store.pendingIDs() == [huge.id], "it stays pending, nothing is lost")
    }

    @Test func anIncompletePendingStateIsReportedNotPushedAndDoesNotBlockTheRest() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let owner = customer(1, notes: 10)
        var broken = Fixtures.purchase(of: owner.id)
        try broken.set("amount", to: nil, by: Fixtures.author)  // what an older `cx edit --unset amount` wrote
        let fine = Fixtures.purchase(of: owner.id)
        try pending(dir, [owner, broken, fine])
        let server = LimitedServer(maxBody: 1 << 30)
        let report = try await engine(dir).run(client: server)
        #expect(Set(server.accepted) == [owner.id, fine.id])
        #expect(report.rejected.map(\.code) == [.incompleteRecord])
        #expect(SyncReport.remedy(for: report.rejected[0], kind: .activity).contains("cx edit \(Describe.short(broken.id)) --set FIELD=VALUE"))
    }

    @Test func anEditThatWouldMakeARecordIncompleteIsRefusedAndNothingIsWritten() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let owner = customer(1, notes: 10)
        let purchase = Fixtures.purchase(of: owner.id)
        try pending(dir, [owner, purchase])
        let store = try Fixtures.open(dir)
        defer { store.close() }
        do {
            try RecordEditing.modify(purchase.id, in: store) { try $0.set("amount", to: nil, by: Fixtures.author) }
            Issue.record("the edit was accepted")
        } catch let error as CXError {
            #expect(error.code == .dataError)
            #expect(error.message.contains("a purchase needs an amount"))
        }
        #expect(try store.state(purchase.id) == purchase)
        // Turning the purchase into a touchpoint without a channel is refused the same way.
        do {
            try RecordEditing.modify(purchase.id, in: store) { try $0.set("type", to: "touchpoint", by: Fixtures.author) }
            Issue.record("the edit was accepted")
        } catch let error as CXError {
            #expect(error.code == .dataError)
            #expect(error.message.contains("channel"))
        }
        #expect(try store.state(purchase.id) == purchase)
        #expect(Set(try store.pendingIDs()) == [owner.id, purchase.id])
    }

    @Test func everyRefusalNamesTheCommandThatResolvesIt() {
        let id = "3f2a9c1e-0000-4000-8000-000000000001"
        func remedy(_ code: String, _ kind: RecordKind?, customer: String? = nil) -> String {
            SyncReport.remedy(for: .init(id: id, code: RecordRejection.Code(rawValue: code), message: "…"), kind: kind, customerID: customer)
        }
        #expect(remedy("territory_not_held", .customer).contains("cx edit 3f2a9c1e --territory T"))
        #expect(remedy("territory_required", .customer).contains("cx edit 3f2a9c1e --territory T"))
        #expect(remedy("out_of_scope", .customer).contains("cx forget 3f2a9c1e --yes"))
        #expect(remedy("out_of_scope", .activity).contains("cx forget 3f2a9c1e --yes"))
        #expect(remedy("unknown_customer", .activity, customer: "77e0ab00-0000-4000-8000-000000000002").contains("cx edit 3f2a9c1e --set customer_id=CUSTOMER"))
        #expect(remedy("invalid_record", .activity).contains("cx edit 3f2a9c1e --set"))
        #expect(remedy("record_too_large", .customer).contains("cx edit 3f2a9c1e"))
        #expect(remedy("kind_mismatch", nil).contains("cx forget 3f2a9c1e --yes"))
        #expect(remedy("something_new", nil).contains("cx edit 3f2a9c1e"))
    }

    /// A delete is scope-checked like an edit: `cx rm` is never offered where the server would
    /// refuse the delete too, and a record only this home wrote can be forgotten.
    @Test func aRefusedRecordIsNeverSentToCxRmInARound() {
        let id = "3f2a9c1e-0000-4000-8000-000000000001"
        func remedy(_ code: RecordRejection.Code, _ record: SyncReport.RefusedRecord) -> String {
            SyncReport.remedy(for: .init(id: id, code: code, message: "…"), record: record)
        }
        let fresh = remedy(.territoryNotHeld, .init(kind: .customer, localOnly: true, territories: ["north"]))
        #expect(fresh.contains("`cx edit 3f2a9c1e --territory T`; yours: north"))
        #expect(fresh.contains("cx forget 3f2a9c1e --yes"))
        #expect(!fresh.contains("cx rm"))
        let deleted = remedy(.territoryNotHeld, .init(kind: .customer, deleted: true, localOnly: true))
        #expect(deleted.contains("cx forget 3f2a9c1e --yes"))
        #expect(!deleted.contains("cx rm") && !deleted.contains("cx edit"))
        let moved = remedy(.territoryNotHeld, .init(kind: .customer, localOnly: false, territories: ["north"]))
        #expect(moved.contains("cx edit 3f2a9c1e --territory T") && !moved.contains("cx forget"))
        let orphan = remedy(.unknownCustomer, .init(kind: .activity, customerID: "77e0ab00-0000-4000-8000-000000000002", localOnly: true))
        #expect(orphan.contains("cx forget 3f2a9c1e --yes") && orphan.contains("cx forget 77e0ab00 --yes") && !orphan.contains("cx rm"))
        for code in RecordRejection.Code.serverCodes + [.recordTooLarge] {
            for deleted in [false, true] {
                let text = remedy(code, .init(kind: .customer, deleted: deleted, localOnly: true))
                #expect(text.contains("`cx "), "\(code) names a command: \(text)")
            }
        }
    }
}
