import CXClient
import CXFuzzSupport
import CXModel
import CXServer

/// Fuzzes both ends of `POST /v1/sync`: the server's request parser (`SyncRequest.parse`, through
/// ``SyncRequestFuzzing``) and the client's reply parser (`SyncResponse(parsing:)`, then each
/// pulled state through `RecordState(jsonBytes:)` as the sync engine does).
@main enum FuzzSyncEnvelope {
    static func main() {
        FuzzDriver.run(check)
    }

    static func check(_ bytes: [UInt8]) {
        _ = SyncRequestFuzzing.check(bytes)

        let response: SyncResponse
        do {
            response = try SyncResponse(parsing: bytes)
        } catch {
            _ = error.description
            return
        }
        for change in response.changes {
            // Each change is one complete JSON value cut out of the body.
            guard let state = try? RecordState(jsonBytes: change) else { continue }
            precondition((try? RecordState(jsonBytes: state.jsonBytes())) == state, "a pulled state does not round-trip")
        }
    }
}
