import Testing

@Suite struct EndToEndPlaceholder {
    @Test func placeholder() { #expect(1 + 1 == 2) }
}
