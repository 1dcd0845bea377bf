extension RecordState {
    /// The canonical JSON form of the full state, as exchanged by sync and kept in caches:
    /// ``StateFormat/compact`` unless a peer needs the ``StateFormat/expanded`` form.
    ///
    /// Canonical: keys in a fixed order, maps sorted by key, no whitespace, every field value as
    /// its canonical text (decimals and dates exact). Decoding this output and encoding again in
    /// the same format gives the same bytes. See `docs/sync-protocol.md` §6 for both formats.
    public func jsonBytes(_ format: StateFormat = .compact) -> [UInt8] {
        var writer = JSONWriter(capacity: format == .compact ? 160 + fields.count * 48 : 256 + fields.count * 96)
        encode(into: &writer, format: format)
        return writer.bytes
    }

    /// ``jsonBytes(_:)`` as a string.
    public func jsonString(_ format: StateFormat = .compact) -> String {
        String(decoding: jsonBytes(format), as: UTF8.self)
    }

    /// Appends the canonical JSON form to `w`. See ``jsonBytes(_:)``.
    public func encode(into w: inout JSONWriter, format: StateFormat = .compact) {
        switch format {
        case .compact: encodeCompact(into: &w)
        case .expanded: encodeExpanded(into: &w)
        }
    }

    /// The expanded form: keys `id`, `kind`, `clock`, `fields`, `tags`, `deletion`; every entry
    /// an object with its `value`, `dot`, `at` (`YYYY-MM-DDTHH:MM:SS.mmmZ`) and `user`.
    private func encodeExpanded(into w: inout JSONWriter) {
        w.raw("{\"id\":")
        w.string(id)
        w.raw(",\"kind\":")
        w.string(kind.rawValue)
        w.raw(",\"clock\":")
        Self.encode(clock, into: &w)
        w.raw(",\"fields\":{")
        for (index, register) in fields.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(register.name)
            w.raw(":[")
            for (entryIndex, entry) in register.entries.enumerated() {
                if entryIndex > 0 { w.byte(UInt8(ascii: ",")) }
                w.raw("{\"value\":")
                w.optionalString(entry.value)
                Self.encodeProvenance(dot: entry.dot, at: entry.at, user: entry.user, into: &w)
            }
            w.byte(UInt8(ascii: "]"))
        }
        w.raw("},\"tags\":{")
        for (index, tag) in tags.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(tag.tag)
            w.raw(":[")
            for (dotIndex, dot) in tag.dots.enumerated() {
                if dotIndex > 0 { w.byte(UInt8(ascii: ",")) }
                Self.encode(dot, into: &w)
            }
            w.byte(UInt8(ascii: "]"))
        }
        w.raw("},\"deletion\":[")
        for (index, entry) in deletion.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.raw("{\"deleted\":")
            if entry.value.deleted { w.raw("true") } else { w.raw("false") }
            w.raw(",\"seen\":")
            Self.encode(entry.value.seen, into: &w)
            Self.encodeProvenance(dot: entry.dot, at: entry.at, user: entry.user, into: &w)
        }
        w.raw("]}")
    }

    private static func encode(_ clock: VersionVector, into w: inout JSONWriter) {
        clock.encode(into: &w)
    }

    private static func encode(_ dot: Dot, into w: inout JSONWriter) {
        w.byte(UInt8(ascii: "["))
        w.string(dot.replica)
        w.byte(UInt8(ascii: ","))
        w.number(dot.counter)
        w.byte(UInt8(ascii: "]"))
    }

    /// `,"dot":[…],"at":"…"[,"user":"…"]}` — closes the entry object.
    private static func encodeProvenance(dot: Dot, at: Timestamp, user: String?, into w: inout JSONWriter) {
        w.raw(",\"dot\":")
        encode(dot, into: &w)
        w.raw(",\"at\":")
        w.timestamp(at)
        if let user {
            w.raw(",\"user\":")
            w.string(user)
        }
        w.byte(UInt8(ascii: "}"))
    }
}
