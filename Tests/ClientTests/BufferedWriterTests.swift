import Foundation
import Testing
@testable import CXClient

/// ``BufferedWriter`` writes behind on another thread: every byte lands in order, through
/// buffers reused turn by turn, and a failed write is not lost on the way.
@Suite struct BufferedWriterTests {
    @Test func everyByteLandsInOrder() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        var generator = SystemRandomNumberGenerator()
        var expected: [UInt8] = []
        let path = dir.path + "/out"
        // A small buffer: many buffers queued, and writes larger than the buffer.
        let writer = try BufferedWriter(path: path, capacity: 64)
        for round in 0..<2_000 {
            let length = round % 97 == 0 ? 300 : Int.random(in: 0...40, using: &generator)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            expected += bytes
            if length == 1 { try writer.write(byte: bytes[0]) } else { try writer.write(bytes) }
            #expect(writer.offset == expected.count)
        }
        try writer.finish()
        #expect(try POSIX.readFile(path) == expected)
    }

    #if os(Linux)
    /// `/dev/full` fails every write with ENOSPC: the failure reaches `finish()` (or a later
    /// write), never silently dropped by the background thread.
    @Test func aFailedWriteIsReported() throws {
        let writer = try BufferedWriter(path: "/dev/full", capacity: 16)
        var failure: IOError?
        do throws(IOError) {
            for _ in 0..<100 { try writer.write(Array(repeating: UInt8(ascii: "x"), count: 10)) }
            try writer.finish()
        } catch {
            failure = error
        }
        #expect(failure?.errno == ENOSPC, "\(String(describing: failure))")
    }
    #endif
}
