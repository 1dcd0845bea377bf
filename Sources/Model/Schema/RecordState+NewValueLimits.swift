extension RecordState {
    /// The first write in this state that is new to a holder of `clock` and longer than today's
    /// limits (``Schema/maximumLength(of:)``, ``Schema/maximumTagLength``), or `nil`.
    ///
    /// A pushed state is decoded with ``StateValueRules/pushed``, which keeps values stored
    /// under earlier rules; this holds the writes the receiver does not have yet — the ones made
    /// today — to today's limits. With no `clock` (a record the receiver never stored) every
    /// write is new.
    public func lengthViolation(notCoveredBy clock: VersionVector?) -> RecordValidationError? {
        func isNew(_ dot: Dot) -> Bool { !(clock?.contains(dot) ?? false) }
        for register in fields {
            for entry in register.entries where isNew(entry.dot) {
                guard let value = entry.value else { continue }
                do throws(RecordValidationError) {
                    _ = try Schema.normalize(value, for: register.name, in: kind)
                } catch {
                    return error
                }
            }
        }
        for register in tags where register.dots.contains(where: isNew) {
            do throws(RecordValidationError) {
                _ = try Schema.normalizeTag(register.tag)
            } catch {
                return error
            }
        }
        return nil
    }
}
