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

    /// Whether every value and tag of this state is within today's length limits: what
    /// ``lengthViolation(notCoveredBy:)`` finds with no clock, for a state whose values are
    /// otherwise valid and canonical — as every decoded or built state's are (the decoder and
    /// the local operations normalise every value), so only the lengths are left to count.
    /// A pushed batch is checked with this while the request is prepared: measured at a fifth
    /// of the full check, which normalises every value a second time.
    public var isWithinLengthLimits: Bool {
        for register in fields {
            let limit = Schema.maximumLength(of: register.name)
            for entry in register.entries {
                if let value = entry.value, !Schema.isWithin(limit, value) { return false }
            }
        }
        return tags.allSatisfy { Schema.isWithin(Schema.maximumTagLength, $0.tag) }
    }
}
