/// Record ids are UUIDs in their canonical lowercase text form.
public enum RecordID {
    /// The canonical (lowercase) form of `text` when it is a UUID, else `nil`. An id already in
    /// canonical form (every id cx writes) is returned as is, without copying.
    public static func canonical(_ text: String) -> String? {
        func shape(_ bytes: UnsafeBufferPointer<UInt8>) -> Shape {
            guard bytes.count == 36 else { return .invalid }
            var lowercase = true
            for (index, byte) in bytes.enumerated() {
                if index == 8 || index == 13 || index == 18 || index == 23 {
                    guard byte == UInt8(ascii: "-") else { return .invalid }
                    continue
                }
                switch byte {
                case 0x30...0x39, 0x61...0x66: break
                case 0x41...0x46: lowercase = false
                default: return .invalid
                }
            }
            return lowercase ? .canonical : .uppercase
        }
        switch TextBytes.withBytes(of: text, shape) {
        case .invalid: return nil
        case .canonical: return text
        case .uppercase:
            return String(decoding: text.utf8.map { (0x41...0x46).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
        }
    }

    /// What ``canonical(_:)`` found.
    private enum Shape {
        case invalid, canonical, uppercase
    }

    /// A new random id (version 4 UUID), lowercase.
    ///
    /// Two draws of the system generator (two `getrandom` calls on Linux) rather than one per
    /// byte: ids are minted for every imported row, where sixteen system calls each cost a
    /// fifth of the import's own CPU.
    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next(), low = generator.next()
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<8 {
            bytes[index] = UInt8(truncatingIfNeeded: high >> (8 * index))
            bytes[8 + index] = UInt8(truncatingIfNeeded: low >> (8 * index))
        }
        return format(bytes)
    }

    /// A new version 4 UUID drawn from `generator` (deterministic generators make test data
    /// reproducible): one draw per byte, so a seed gives the ids it always gave.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> String {
        format((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The canonical text of 16 random bytes with the version (4) and variant bits set.
    private static func format(_ random: [UInt8]) -> String {
        var bytes = random
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
