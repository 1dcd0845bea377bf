import CXModel

extension RecordStore {
    /// Why the merge of a pushed state with the stored one may not be written, or `nil` when it
    /// may: the merged record must be complete (a purchase keeps its amount, a customer its
    /// name) and within ``StateLimits``, whatever each side looked like on its own.
    ///
    /// Both inputs passed the decoder, so their values are valid; what a merge can break is
    /// completeness (one side unset a required field concurrently with the other's edit is
    /// refused locally, but a stored record written before a rule existed may lack it) and the
    /// size bounds (two sides with 64 concurrent values each merge into 128).
    static func mergedRefusal(_ merged: RecordState) -> Rejection? {
        if let violation = merged.limitViolation() {
            return Rejection(
                id: merged.id, code: .tooManyEntries,
                message: "record \(merged.id) merged with the server's copy would be too large: \(violation); resolve its conflicts on a replica and sync again")
        }
        do throws(RecordValidationError) {
            try merged.validateComplete()
        } catch {
            return Rejection(
                id: merged.id, code: .incompleteRecord,
                message: "record \(merged.id) merged with the server's copy is incomplete: \(error.description); set the missing field with cx edit and sync again")
        }
        return nil
    }
}
