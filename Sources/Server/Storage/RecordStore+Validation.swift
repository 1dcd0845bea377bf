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
            try merged.validateRequiredFields()
        } catch {
            return Rejection(
                id: merged.id, code: .incompleteRecord,
                message: "record \(merged.id) merged with the server's copy is incomplete: \(error.description); set the missing field with cx edit and sync again")
        }
        return creditNoteRefusal(merged, merged: true)
    }

    /// Why a state breaks the rules of credit notes (``RecordState/validateCreditNote()``: a
    /// negative amount only on a purchase that credits another), or `nil`: refused as
    /// `invalid_record`, the other records of the push are written.
    static func creditNoteRefusal(_ state: RecordState, merged: Bool) -> Rejection? {
        do throws(RecordValidationError) {
            try state.validateCreditNote()
            return nil
        } catch {
            let what = merged ? "merged with the server's copy is invalid" : "is invalid"
            return Rejection(
                id: state.id, code: .invalidRecord,
                message: "record \(state.id) \(what): \(error.description); fix it with cx edit (or record a credit note with cx purchase --credits) and sync again")
        }
    }
}
