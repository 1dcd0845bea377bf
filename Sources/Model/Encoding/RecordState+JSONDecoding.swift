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
        // A compact state is read as it is, its references resolved entry by entry: expanding
        // it into the expanded form's lists first cost a fifth of the decoding.
        let compact = wire.compact.version != nil ? wire.compact : nil
        if let compact {
            guard compact.replicas.count == compact.counters.count else {
                throw fail("'replicas' has \(compact.replicas.count) entries but 'clock' \(compact.counters.count); they pair up one to one")
            }
            wire.clock = zip(compact.replicas, compact.counters).map { WireCounter(replica: $0, counter: $1) }
            for (number, write) in compact.writes.enumerated() where write.replica < 0 || write.replica >= compact.replicas.count {
                throw fail("write \(number) names replica \(write.replica); 'replicas' has \(compact.replicas.count)")
            }
        }

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
        func tooManyEntries(_ name: String, _ count: Int) -> StateDecodingError? {
            guard count > StateLimits.maximumEntriesPerField else { return nil }
            return tooMany(
                "field \(name.prefix(100)) has \(count) concurrent values; at most \(StateLimits.maximumEntriesPerField) are accepted — resolve the conflict")
        }
        for field in wire.fields { if let error = tooManyEntries(field.name, field.entries.count) { throw error } }
        for field in compact?.fields ?? [] { if let error = tooManyEntries(field.name, field.entries.count) { throw error } }
        let tagCount = wire.tags.count + (compact?.tags.count ?? 0)
        if tagCount > StateLimits.maximumTags {
            throw tooMany("it has \(tagCount) tags; at most \(StateLimits.maximumTags) are accepted")
        }
        func tooManyAdds(_ tag: String, _ count: Int) -> StateDecodingError? {
            guard count > StateLimits.maximumDotsPerTag else { return nil }
            return tooMany("tag '\(tag.prefix(100))' has \(count) concurrent adds; at most \(StateLimits.maximumDotsPerTag) are accepted")
        }
        for tag in wire.tags { if let error = tooManyAdds(tag.tag, tag.dots.count) { throw error } }
        for tag in compact?.tags ?? [] { if let error = tooManyAdds(tag.tag, tag.adds.count) { throw error } }
        let deletionCount = wire.deletion.count + (compact?.deletion.count ?? 0)
        if deletionCount > StateLimits.maximumDeletionEntries {
            throw tooMany("its deletion register has \(deletionCount) entries; at most \(StateLimits.maximumDeletionEntries) are accepted")
        }
        let largestSeen = max(wire.deletion.map(\.seen.count).max() ?? 0, compact?.deletion.map(\.seen.count).max() ?? 0)
        if largestSeen > StateLimits.maximumReplicasPerClock {
            throw tooMany("a deletion's 'seen' clock has \(largestSeen) replicas; at most \(StateLimits.maximumReplicasPerClock) are accepted")
        }
        let (clock, clockReplicas) = try Self.clock(wire.clock, what: "clock", fail: fail)
        var allDots: [Dot] = []
        // An expanded dot names one of the clock's replicas in every valid state, and in nearly
        // every one the same replica as the dot before it: such a dot's replica is known checked
        // (in the clock) and its coverage is a comparison with that replica's counter. Equal
        // replica names under `==` with the same byte count check alike (canonical equivalence
        // keeps control characters, and the same length keeps the length rule), so the check of
        // the first is the check of the second. Clocks are scanned whole only when small, so a
        // state near the limits stays linear.
        var lastReplica = 0
        func clockReplica(_ sent: String) -> Int? {
            func matches(_ index: Int) -> Bool {
                let known = clockReplicas[index].sent
                return known.utf8.count == sent.utf8.count && known == sent
            }
            if lastReplica < clockReplicas.count, matches(lastReplica) { return lastReplica }
            guard clockReplicas.count <= 8, let index = clockReplicas.indices.first(where: matches) else { return nil }
            lastReplica = index
            return index
        }
        /// The dot of the clock's replica at `index` (in the order sent) and `counter`.
        func check(replica index: Int, counter: Int64, _ place: @autoclosure () -> String) throws(StateDecodingError) -> Dot {
            let known = clockReplicas[index]
            guard counter >= 1 else {
                throw fail("\(place()): dot counter \(counter) of replica '\(known.sent)' must be at least 1")
            }
            let dot = Dot(replica: known.entry.replica, counter: UInt64(counter))
            guard dot.counter <= known.entry.counter else {
                throw fail("\(place()): dot \(dot) is not covered by the clock \(clock)")
            }
            allDots.append(dot)
            return dot
        }
        func check(_ wireDot: WireDot, _ place: @autoclosure () -> String) throws(StateDecodingError) -> Dot {
            if let index = clockReplica(wireDot.replica) { return try check(replica: index, counter: wireDot.counter, place()) }
            let dot = try Self.dot(wireDot, place: place(), fail: fail)
            guard clock.contains(dot) else {
                throw fail("\(place()): dot \(dot) is not covered by the clock \(clock)")
            }
            allDots.append(dot)
            return dot
        }
        /// The write at `index` of a compact state.
        func write(_ index: Int64, _ place: @autoclosure () -> String) throws(StateDecodingError) -> WireState.CompactParts.Write {
            let writes = compact?.writes ?? []
            guard index >= 0, index < writes.count else {
                throw fail("\(place()): write \(index) is not in 'writes' (\(writes.count) entries)")
            }
            return writes[Int(index)]
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

        /// The value of an entry of field `name` in its canonical form, its user checked.
        func value(_ value: String?, of name: String, user: String?) throws(StateDecodingError) -> String? {
            let canonical: String?
            do {
                canonical = try Schema.normalize(value, for: name, in: kind, limitingLength: values.limitsLength)
            } catch {
                // Unsetting a required field is refused locally, but a state carrying such
                // an entry is still structurally sound only for optional fields.
                throw fail(error.description)
            }
            // A stored value written before a rule existed is read in today's form.
            guard canonical == value || !values.requiresCanonicalForm else {
                throw fail("field \(name): value '\(value ?? "null")' is not in canonical form '\(canonical ?? "null")'")
            }
            try Self.checkUser(user, fail: fail)
            return canonical
        }
        var fields: [FieldRegister] = []
        fields.reserveCapacity(wire.fields.count + (compact?.fields.count ?? 0))
        func addRegister(_ name: String, _ entries: [FieldEntry]) {
            fields.append(FieldRegister(name: name, entries: entries.count > 1 ? entries.sorted { $0.dot < $1.dot } : entries))
        }
        for field in wire.fields {
            let name = field.name
            guard !field.entries.isEmpty else { throw fail("field \(name) has no entries") }
            var entries: [FieldEntry] = []
            entries.reserveCapacity(field.entries.count)
            for entry in field.entries {
                entries.append(
                    FieldEntry(
                        value: try value(entry.value, of: name, user: entry.user), dot: try check(entry.dot, "field \(name)"),
                        at: try timestamp(entry.at, "field \(name)"), user: entry.user))
            }
            addRegister(name, entries)
        }
        for field in compact?.fields ?? [] {
            let name = field.name
            var entries: [FieldEntry] = []
            entries.reserveCapacity(field.entries.count)
            for entry in field.entries {
                let write = try write(entry.write, "field \(name)")
                entries.append(
                    FieldEntry(
                        value: try value(entry.value, of: name, user: write.user),
                        dot: try check(replica: Int(write.replica), counter: entry.counter, "field \(name)"),
                        at: try timestamp(.milliseconds(write.at), "field \(name)"), user: write.user))
            }
            addRegister(name, entries)
        }
        fields.sort { $0.name < $1.name }
        for index in fields.indices.dropFirst() where fields[index].name == fields[index - 1].name {
            throw fail("field \(fields[index].name) appears twice")
        }

        var tags: [TagRegister] = []
        tags.reserveCapacity(tagCount)
        /// The tag as stored, checked; `dots` reads its adds.
        func addTag(_ tag: String, _ dots: () throws(StateDecodingError) -> [Dot]) throws(StateDecodingError) {
            let normalized: String
            do {
                normalized = try Schema.normalizeTag(tag, limitingLength: values.limitsLength)
            } catch {
                throw fail(error.description)
            }
            guard normalized == tag || !values.requiresCanonicalForm else {
                throw fail("tag '\(tag)' is not in canonical form '\(normalized)' (trimmed, Unicode Normalization Form C)")
            }
            let dots = try dots()
            guard !dots.isEmpty else { throw fail("tag '\(tag)' has no dots") }
            tags.append(TagRegister(tag: normalized, dots: dots.sorted()))
        }
        for wireTag in wire.tags {
            try addTag(wireTag.tag) { () throws(StateDecodingError) in
                var dots: [Dot] = []
                for wireDot in wireTag.dots { dots.append(try check(wireDot, "tag \(wireTag.tag)")) }
                return dots
            }
        }
        for compactTag in compact?.tags ?? [] {
            try addTag(compactTag.tag) { () throws(StateDecodingError) in
                var dots: [Dot] = []
                for add in compactTag.adds {
                    guard add.replica >= 0, add.replica < clockReplicas.count else {
                        throw fail("tag '\(compactTag.tag.prefix(100))': replica \(add.replica) is not in 'replicas' (\(clockReplicas.count) entries)")
                    }
                    dots.append(try check(replica: Int(add.replica), counter: add.counter, "tag \(compactTag.tag)"))
                }
                return dots
            }
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
        for entry in wire.deletion {
            let seen = try Self.clock(entry.seen, what: "deletion 'seen' clock", fail: fail).clock
            try Self.checkUser(entry.user, fail: fail)
            deletion.append(
                RegisterEntry(
                    value: DeletionMark(deleted: entry.deleted, seen: seen),
                    dot: try check(entry.dot, "deletion"), at: try timestamp(entry.at, "deletion"), user: entry.user))
        }
        for entry in compact?.deletion ?? [] {
            let write = try write(entry.write, "deletion")
            let seen = try Self.clock(entry.seen, what: "deletion 'seen' clock", fail: fail).clock
            try Self.checkUser(write.user, fail: fail)
            deletion.append(
                RegisterEntry(
                    value: DeletionMark(deleted: entry.deleted, seen: seen),
                    dot: try check(replica: Int(write.replica), counter: entry.counter, "deletion"),
                    at: try timestamp(.milliseconds(write.at), "deletion"), user: write.user))
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
