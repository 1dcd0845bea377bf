extension VersionVector {
    /// Writes the vector as the state format's clock: `{"<replica>": <counter>, …}` in replica
    /// order (also the `stored_clock` of a `foreign_clock` refusal).
    public func encode(into w: inout JSONWriter) {
        w.byte(UInt8(ascii: "{"))
        for (index, entry) in entries.enumerated() {
            if index > 0 { w.byte(UInt8(ascii: ",")) }
            w.string(entry.replica)
            w.byte(UInt8(ascii: ":"))
            w.number(entry.counter)
        }
        w.byte(UInt8(ascii: "}"))
    }
}
