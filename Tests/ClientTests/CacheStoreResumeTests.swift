import CXModel
import Foundation
import Testing
@testable import CXClient

/// A suspended store (``CacheStore/suspend()``, as a sync holds it between round trips) must,
/// once resumed, answer exactly as a store opened afresh would: other processes' journal lines,
/// their compactions and their torn tails included.
@Suite struct CacheStoreResumeTests {
    @Test func resumeSeesWhatAnotherWriterAppended() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        var acme = Fixtures.customer("Acme")
        let bistro = Fixtures.customer("Bistro")
        let sync = try Fixtures.open(dir)
        try sync.commit([.init(state: acme, pending: true)])
        sync.suspend()

        // Another command runs while the sync waits for the server.
        let edit = try Fixtures.open(dir)
        try acme.set("phone", to: "555-0199", by: Fixtures.author)
        try edit.commit([.init(state: acme, pending: true), .init(state: bistro, pending: true)], cursor: "c7")
        edit.close()

        try sync.resume()
        #expect(try sync.state(acme.id) == acme)
        #expect(try sync.state(bistro.id) == bistro)
        #expect(sync.cursor == "c7")
        #expect(try sync.pendingIDs() == [acme.id, bistro.id].sorted())
        // Its own next write lands after the other's lines, and a fresh reader agrees.
        try sync.commit([], acks: [bistro.id])
        sync.close()
        let reader = try Fixtures.open(dir, exclusive: false)
        #expect(try reader.pendingIDs() == [acme.id])
        #expect(try reader.state(acme.id) == acme)
        #expect(reader.warnings.isEmpty)
        reader.close()
    }

    @Test func resumeAfterAnotherWriterCompactedLoadsTheNewGeneration() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let acme = Fixtures.customer("Acme")
        let bistro = Fixtures.customer("Bistro")
        let sync = try Fixtures.open(dir)
        try sync.commit([.init(state: acme, pending: true)])
        let oldGeneration = sync.generationDirectory
        sync.suspend()

        let other = try Fixtures.open(dir)
        try other.commit([.init(state: bistro, pending: false)])
        try other.compact()
        other.close()

        try sync.resume()
        #expect(sync.generationDirectory != oldGeneration)
        #expect(try sync.state(bistro.id) == bistro)
        #expect(try sync.state(acme.id) == acme)
        #expect(try sync.pendingIDs() == [acme.id])
        try sync.commit([], acks: [acme.id])
        sync.close()
        let reader = try Fixtures.open(dir, exclusive: false)
        #expect(try reader.pendingIDs().isEmpty)
        reader.close()
    }

    @Test func resumeCutsATornTailLeftMeanwhile() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let acme = Fixtures.customer("Acme")
        let bistro = Fixtures.customer("Bistro")
        let third = Fixtures.customer("Third")
        let sync = try Fixtures.open(dir)
        try sync.commit([.init(state: acme, pending: true)])
        let journalPath = sync.generationDirectory! + "/journal.jsonl"
        sync.suspend()

        // Another writer crashed in the middle of appending a put.
        let line = CacheStore.putLine(.init(state: bistro, pending: true))
        let handle = try #require(FileHandle(forWritingAtPath: journalPath))
        handle.seekToEndOfFile()
        handle.write(Data(line.prefix(line.count / 2)))
        handle.closeFile()

        try sync.resume()
        #expect(try sync.state(bistro.id) == nil)
        try sync.commit([.init(state: third, pending: true)])
        sync.close()
        let reader = try Fixtures.open(dir, exclusive: false)
        #expect(try reader.state(third.id) == third)
        #expect(try reader.state(acme.id) == acme)
        #expect(try reader.state(bistro.id) == nil)
        #expect(reader.warnings.isEmpty)
        reader.close()
    }

    @Test func resumeAfterTheCacheWasReplacedLoadsItAfresh() throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let acme = Fixtures.customer("Acme")
        let bistro = Fixtures.customer("Bistro")
        let sync = try Fixtures.open(dir)
        try sync.commit([.init(state: acme, pending: true)])
        sync.suspend()

        // The user moved the cache away and a new one was started in its place: same
        // generation name, another journal file.
        try FileManager.default.removeItem(atPath: dir.path + "/cache")
        let fresh = try Fixtures.open(dir)
        try fresh.commit([.init(state: bistro, pending: true)])
        fresh.close()

        try sync.resume()
        #expect(try sync.state(acme.id) == nil)
        #expect(try sync.state(bistro.id) == bistro)
        sync.close()
    }
}
