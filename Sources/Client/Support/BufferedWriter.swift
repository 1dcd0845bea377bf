/// Appends to a file through a large buffer (used when writing snapshot files).
final class BufferedWriter {
    let file: FileHandle
    private var buffer: [UInt8] = []
    private let capacity: Int
    /// Bytes written so far (flushed or buffered).
    private(set) var offset = 0

    init(path: String, capacity: Int = 1 << 20) throws(IOError) {
        file = try FileHandle.open(path, .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite)
        self.capacity = capacity
        buffer.reserveCapacity(capacity)
    }

    func write(_ bytes: some Collection<UInt8>) throws(IOError) {
        offset += bytes.count
        if bytes.count >= capacity {
            // Large enough to write as it is, rather than copied through the buffer.
            try flush()
            try file.writeAll(bytes)
            return
        }
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { try flush() }
    }

    func write(byte: UInt8) throws(IOError) {
        buffer.append(byte)
        offset += 1
        if buffer.count >= capacity { try flush() }
    }

    func flush() throws(IOError) {
        if buffer.isEmpty { return }
        try file.writeAll(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, fsyncs and closes.
    func finish() throws(IOError) {
        try flush()
        try file.sync()
        file.close()
    }
}

