extension RecordState {
    /// Reads a state from its JSON form (see ``jsonBytes()``), checking every invariant.
    ///
    /// - Throws: ``StateDecodingError`` naming the problem: malformed JSON, unknown keys or
    ///   kinds, negative or zero counters, dots not covered by the clock, duplicate dots,
    ///   unknown fields, or values that are invalid or not in canonical form.
    /// - Parameter values: the rules the values are held to (``StateValueRules``): `.stored`
    ///   for what the reader stored itself, `.pushed` for a state received with new writes.
    public init(jsonBytes: some Collection<UInt8>, values: StateValueRules = .current) throws(StateDecodingError) {
        let wire: WireState
        do {
            wire = try JSONScanner.scan(jsonBytes) { scanner throws(JSONScanner.Failure) in
                let wire = try WireState.read(&scanner)
                try scanner.expectEnd()
                return wire
            }
        } catch {
            throw StateDecodingError(recordID: nil, "malformed JSON: \(error)", syntaxError: error)
        }
        try self.init(wire: wire, values: values)
    }

    /// Reads one state from `scanner` (inside a larger document such as a sync request).
    /// - Throws: ``StateDecodingError`` for malformed JSON or a state that breaks an invariant.
    public init(reading scanner: inout JSONScanner, values: StateValueRules = .current) throws(StateDecodingError) {
        let wire: WireState
        do {
            wire = try WireState.read(&scanner)
        } catch {
            throw StateDecodingError(recordID: nil, "malformed JSON: \(error)", syntaxError: error)
        }
        try self.init(wire: wire, values: values)
    }

    /// Reads a state from its JSON text. See ``init(jsonBytes:values:)``.
    public init(jsonString: String, values: StateValueRules = .current) throws(StateDecodingError) {
        try self.init(jsonBytes: Array(jsonString.utf8), values: values)
    }

    /// Builds a state from an already-parsed wire form (used when a state arrives inside a
    /// larger JSON document such as a sync request).
    init(wire: consuming WireState, values: StateValueRules) throws(StateDecodingError) {
        let rawID = wire.id
        guard let id = RecordID.canonical(rawID) else {
            let shown = String(rawID.unicodeScalars.prefix(100))
            throw StateDecodingError(recordID: shown.isEmpty ? nil : shown, "id '\(shown)' is not a UUID")
        }
        func fail(_ message: String) -> StateDecodingError { StateDecodingError(recordID: id, message) }
        if let problem = wire.expandingCompactForm() { throw fail(problem) }

        guard let kind = RecordKind(rawValue: wire.kind) else {
            throw fail("unknown kind '\(wire.kind.prefix(100))'; expected customer or activity")
        }
        // Bounds first, before any work proportional to their product.
        func tooMany(_ message: String) -> StateDecodingError {
            StateDecodingError(recordID: id, message, code: .tooManyEntries)
        }
        if wire.clock.count > StateLimits.maximumReplicasPerClock {
            throw tooMany("its clock has \(wire.clock.count) replicas; at most \(StateLimits.maximumReplicasPerClock) are accepted")
        }
        for field in wire.fields where field.entries.count > StateLimits.maximumEntriesPerField {
            throw tooMany(
                "field \(field.name.prefix(100)) has \(field.entries.count) concurrent values; at most \(StateLimits.maximumEntriesPerField) are accepted — resolve the conflict")
        }
        if wire.tags.count > StateLimits.maximumTags {
            throw tooMany("it has \(wire.tags.count) tags; at most \(StateLimits.maximumTags) are accepted")
        }
        for tag in wire.tags where tag.dots.count > StateLimits.maximumDotsPerTag {
            throw tooMany("tag '\(tag.tag.prefix(100))' has \(tag.dots.count) concurrent adds; at most \(StateLimits.maximumDotsPerTag) are accepted")
        }
        if wire.deletion.count > StateLimits.maximumDeletionEntries {
            throw tooMany("its deletion register has \(wire.deletion.count) entries; at most \(StateLimits.maximumDeletionEntries) are accepted")
        }
        for entry in wire.deletion where entry.seen.count > StateLimits.maximumReplicasPerClock {
            throw tooMany("a deletion's 'seen' clock has \(entry.seen.count) replicas; at most \(StateLimits.maximumReplicasPerClock) are accepted")
        }
        let (clock, clockReplicas) = try Self.clock(wire.clock, what: "clock", fail: fail)
        var allDots: [Dot] = []
        // A dot names one of the clock's replicas in every valid state, and in nearly every one
        // the same replica as the dot before it: such a dot's replica is known checked (in the
        // clock) and its coverage is a comparison with that replica's counter. Equal replica
        // names under `==` with the same byte count check alike (canonical equivalence keeps
        // control characters, and the same length keeps the length rule), so the check read
        // the first is the check of the second. Clocks are scanned whole only when small, so a
        // state near the limits stays linear.
        var lastReplica = 0
        func clockReplica(_ sent: String) -> Dot? {
            func matches(_ index: Int) -> Bool {
                let known = clockReplicas[index].sent
                return known.utf8.count == sent.utf8.count && known == sent
            }
            if lastReplica < clockReplicas.count, matches(lastReplica) { return clockReplicas[lastReplica].entry }
            guard clockReplicas.count <= 8, let index = clockReplicas.indices.first(where: matches) else { return nil }
            lastReplica = index
            return clockReplicas[index].entry
        }
        func check(_ wireDot: WireDot, _ place: @autoclosure () -> String) throws(StateDecodingError) -> Dot {
            let dot: Dot
            if let known = clockReplica(wireDot.replica) {
                guard wireDot.counter >= 1 else {
                    throw fail("\(place()): dot counter \(wireDot.counter) of replica '\(wireDot.replica)' must be at least 1")
                }
                dot = Dot(replica: known.replica, counter: UInt64(wireDot.counter))
                guard dot.counter <= known.counter else {
                    throw fail("\(place()): dot \(dot) is not covered by the clock \(clock)")
                }
            } else {
                dot = try Self.dot(wireDot, place: place(), fail: fail)
                guard clock.contains(dot) else {
                    throw fail("\(place()): dot \(dot) is not covered by the clock \(clock)")
                }
            }
            allDots.append(dot)
            return dot
        }
        func timestamp(_ time: WireTime, _ place: @autoclosure () -> String) throws(StateDecodingError) -> Timestamp {
            switch time {
            case .text(let text):
                guard let at = Timestamp(text) else {
                    throw fail("\(place()): 'at' must be YYYY-MM-DDTHH:MM:SS.mmmZ, got '\(text)'")
                }
                return at
            case .milliseconds(let milliseconds):
                // The range the expanded form can write (years 0001–9999), so both forms hold
                // the same states.
                guard Timestamp.writableRange.contains(milliseconds) else {
                    throw fail("\(place()): time \(milliseconds) ms is outside years 0001–9999")
                }
                return Timestamp(millisecondsSinceEpoch: milliseconds)
            }
        }

        var fields: [FieldRegister] = []
        fields.reserveCapacity(wire.fields.count)
        for field in wire.fields {
            let name = field.name, wireEntries = field.entries
            guard !wireEntries.isEmpty else { throw fail("field \(name) has no entries") }
            var entries: [FieldEntry] = []
            entries.reserveCapacity(wireEntries.count)
            for wireEntry in wireEntries {
                let canonical: String?
                do {
                    canonical = try Schema.normalize(wireEntry.value, for: name, in: kind, limitingLength: values.limitsLength)
                } catch {
                    // Unsetting a required field is refused locally, but a state carrying such
                    // an entry is still structurally sound only for optional fields.
                    throw fail(error.description)
                }
                // A stored value written before a rule existed is read in today's form.
                guard canonical == wireEntry.value || !values.requiresCanonicalForm else {
                    throw fail("field \(name): value '\(wireEntry.value ?? "null")' is not in canonical form '\(canonical ?? "null")'")
                }
                try Self.checkUser(wireEntry.user, fail: fail)
                entries.append(
                    FieldEntry(
                        value: canonical, dot: try check(wireEntry.dot, "field \(name)"),
                        at: try timestamp(wireEntry.at, "field \(name)"), user: wireEntry.user))
            }
            entries.sort { $0.dot < $1.dot }
            fields.append(FieldRegister(name: name, entries: entries))
        }
        fields.sort { $0.name < $1.name }
        for index in fields.indices.dropFirst() where fields[index].name == fields[index - 1].name {
            throw fail("field \(fields[index].name) appears twice")
        }

        var tags: [TagRegister] = []
        for wireTag in wire.tags {
            let tag = wireTag.tag, wireDots = wireTag.dots
            let normalized: String
            do {
                normalized = try Schema.normalizeTag(tag, limitingLength: values.limitsLength)
            } catch {
                throw fail(error.description)
            }
            guard normalized == tag || !values.requiresCanonicalForm else {
                throw fail("tag '\(tag)' is not in canonical form '\(normalized)' (trimmed, Unicode Normalization Form C)")
            }
            guard !wireDots.isEmpty else { throw fail("tag '\(tag)' has no dots") }
            var dots: [Dot] = []
            for wireDot in wireDots { dots.append(try check(wireDot, "tag \(tag)")) }
            tags.append(TagRegister(tag: normalized, dots: dots.sorted()))
        }
        tags.sort { $0.tag < $1.tag }
        if values.requiresCanonicalForm {
            for index in tags.indices.dropFirst() where tags[index].tag == tags[index - 1].tag {
                throw fail("tag '\(tags[index].tag)' appears twice")
            }
        } else {
            // Two spellings of one tag stored by older replicas (NFD and NFC) are one tag.
            tags = Self.joiningSpellings(tags)
        }

        var deletion: [RegisterEntry<DeletionMark>] = []
        for wireEntry in wire.deletion {
            let seen = try Self.clock(wireEntry.seen, what: "deletion 'seen' clock", fail: fail).clock
            try Self.checkUser(wireEntry.user, fail: fail)
            deletion.append(
                RegisterEntry(
                    value: DeletionMark(deleted: wireEntry.deleted, seen: seen),
                    dot: try check(wireEntry.dot, "deletion"), at: try timestamp(wireEntry.at, "deletion"),
                    user: wireEntry.user))
        }
        deletion.sort { $0.dot < $1.dot }

        // A dot names one write: the same dot twice means a corrupt or forged state.
        allDots.sort()
        for index in allDots.indices.dropFirst() where allDots[index] == allDots[index - 1] {
            throw fail("dot \(allDots[index]) appears twice in the state")
        }
        self.init(id: id, kind: kind, clock: clock, fields: fields, tags: tags, deletion: deletion)
    }

    /// `tags` (sorted) with the registers of equal names joined: their adds are one tag's.
    private static func joiningSpellings(_ tags: [TagRegister]) -> [TagRegister] {
        var joined: [TagRegister] = []
        joined.reserveCapacity(tags.count)
        for register in tags {
            if let last = joined.last, last.tag == register.tag {
                joined[joined.count - 1] = TagRegister(tag: last.tag, dots: Array(Set(last.dots + register.dots)).sorted())
            } else {
                joined.append(register)
            }
        }
        return joined
    }

    /// The clock of `counters`, and each replica as sent with its entry (checked, in NFC).
    private static func clock(
        _ counters: [WireCounter], what: String, fail: (String) -> StateDecodingError
    ) throws(StateDecodingError) -> (clock: VersionVector, checked: [(sent: String, entry: Dot)]) {
        var checked: [(sent: String, entry: Dot)] = []
        checked.reserveCapacity(counters.count)
        for (sent, counter) in counters.lazy.map({ ($0.replica, $0.counter) }) {
            let replica = try checkReplica(sent, place: what, fail: fail)
            guard counter >= 1 else {
                throw fail("\(what): counter of replica '\(replica)' is \(counter); counters are at least 1")
            }
            checked.append((sent, Dot(replica: replica, counter: UInt64(counter))))
        }
        var entries = checked.map(\.entry)
        entries.sort()
        for index in entries.indices.dropFirst() where entries[index].replica == entries[index - 1].replica {
            throw fail("\(what): replica '\(entries[index].replica)' appears twice")
        }
        return (VersionVector(sortedEntries: entries), checked)
    }

    private static func dot(_ wire: WireDot, place: String, fail: (String) -> StateDecodingError) throws(StateDecodingError) -> Dot {
        let replica = try checkReplica(wire.replica, place: place, fail: fail)
        guard wire.counter >= 1 else {
            throw fail("\(place): dot counter \(wire.counter) of replica '\(wire.replica)' must be at least 1")
        }
        return Dot(replica: replica, counter: UInt64(wire.counter))
    }

    /// Checks a replica id and returns it in NFC.
    private static func checkReplica(_ replica: String, place: String, fail: (String) -> StateDecodingError) throws(StateDecodingError) -> String {
        guard ReplicaID.isValid(replica) else {
            throw fail("\(place): replica id '\(replica.prefix(100))' must be 1–\(ReplicaID.maximumLength) bytes without control characters")
        }
        // Replica ids are identities compared byte for byte in PostgreSQL (jsonb keys) but by
        // canonical equivalence in Swift: they are kept in one spelling, NFC.
        let normalized = UnicodeNormalization.nfc(replica)
        guard normalized.utf8.count <= ReplicaID.maximumLength else {
            throw fail("\(place): replica id '\(replica.prefix(100))' must be 1–\(ReplicaID.maximumLength) bytes in Unicode Normalization Form C")
        }
        return normalized
    }

    private static func checkUser(_ user: String?, fail: (String) -> StateDecodingError) throws(StateDecodingError) {
        if let user, user.isEmpty || user.utf8.count > 200 || TextBytes.containsNUL(user) {
            throw fail("user names must be 1–200 bytes without NUL characters")
        }
    }
}
