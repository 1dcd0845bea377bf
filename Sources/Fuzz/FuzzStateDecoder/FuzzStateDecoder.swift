import CXFuzzSupport
import CXModel

/// Fuzzes `RecordState(jsonBytes:)`, the decoder of every state a replica or the server reads.
///
/// Beyond "does not crash": a state that decodes must re-encode canonically — decoding its
/// `jsonBytes()` gives the same state and the same bytes, and so does its other form — and merging it with itself must
/// change nothing (the join is idempotent).
@main enum FuzzStateDecoder {
    static func main() {
        FuzzDriver.run(check)
    }

    static func check(_ bytes: [UInt8]) {
        let state: RecordState
        do {
            state = try RecordState(jsonBytes: bytes)
        } catch {
            _ = error.description
            return
        }
        let encoded = state.jsonBytes()
        let again: RecordState
        do {
            again = try RecordState(jsonBytes: encoded)
        } catch {
            preconditionFailure("the encoding of a decoded state does not decode: \(error)\n\(String(decoding: encoded, as: UTF8.self))")
        }
        precondition(again == state, "decode(encode(state)) != state")
        precondition(again.jsonBytes() == encoded, "the encoding is not canonical")
        // The other form holds the same state (docs/sync-protocol.md §6).
        precondition((try? RecordState(jsonBytes: state.jsonBytes(.expanded))) == state, "the expanded form is another state")
        precondition(state.merging(state) == state, "merging a state with itself changed it")
    }
}
