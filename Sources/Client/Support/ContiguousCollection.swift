/// Byte buffers `FileHandle.writeAll` accepts.
protocol ContiguousCollection {
    func withBytes(_ body: (UnsafeRawBufferPointer) -> Void)
}

extension Array: ContiguousCollection where Element == UInt8 {
    func withBytes(_ body: (UnsafeRawBufferPointer) -> Void) { withUnsafeBytes(body) }
}

extension ArraySlice: ContiguousCollection where Element == UInt8 {
    func withBytes(_ body: (UnsafeRawBufferPointer) -> Void) { withUnsafeBytes(body) }
}

