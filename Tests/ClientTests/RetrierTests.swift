import AsyncHTTPClient
import CXModel
import Foundation
import NIOCore
import Testing
@testable import CXClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A clock that only moves when told to: sleeping advances it at once, and an attempt can
/// "take" time (a connect timeout) without the test waiting.
final class FakeRetryClock: RetryClock, @unchecked Sendable {
    // Safe: every access holds `lock`.
    private let lock = NSLock()
    private var time = 1_000.0
    private var slept: [Double] = []

    func now() -> Double { lock.withLock { time } }

    func sleep(seconds: Double) async {
        lock.withLock {
            slept.append(seconds)
            time += seconds
        }
    }

    /// Moves the clock on (an attempt that takes time).
    func advance(_ seconds: Double) { lock.withLock { time += seconds } }

    /// The waits asked for, in order.
    var sleeps: [Double] { lock.withLock { slept } }
}

/// A transport that fails as scripted before it answers: each attempt takes `attemptTime`
/// seconds on the fake clock and throws the next failure, until the script runs out.
final class FlakyTransport: SyncTransport, @unchecked Sendable {
    // Safe: the retrier calls `sync` sequentially from one task; tests read afterwards.
    private let clock: FakeRetryClock
    private var failures: [TransientFailure]
    private let attemptTime: Double
    private(set) var attempts = 0

    init(clock: FakeRetryClock, failures: [TransientFailure], attemptTime: Double = 0) {
        self.clock = clock
        self.failures = failures
        self.attemptTime = attemptTime
    }

    func sync(_ envelope: [UInt8]) async throws -> SyncReply {
        attempts += 1
        clock.advance(attemptTime)
        if !failures.isEmpty { throw failures.removeFirst() }
        return SyncReply(changes: [], cursor: "c1", hasMore: false)
    }
}

/// Collects retry notices (the progress a terminal shows).
final class NoticeLog: @unchecked Sendable {
    // Safe: every access holds `lock`.
    private let lock = NSLock()
    private var items: [RetryNotice] = []
    func append(_ notice: RetryNotice) { lock.withLock { items.append(notice) } }
    var notices: [RetryNotice] { lock.withLock { items } }
}

@Suite struct RetrierTests {
    static let refused = TransientFailure(.refused, reason: "connection refused")
    static let timeout = TransientFailure(.timeout, reason: "connection timed out")
    static let unavailable = TransientFailure(.serverError, reason: "HTTP 503")

    @Test func theStandardPolicyRetriesThreeTimesWithGrowingWaitsThenGivesUp() async throws {
        let clock = FakeRetryClock()
        let log = NoticeLog()
        let transport = FlakyTransport(clock: clock, failures: Array(repeating: Self.refused, count: 10))
        let retrier = Retrier(policy: .standard, clock: clock, observer: { log.append($0) })
        await #expect(throws: Retrier.GaveUp.self) {
            _ = try await retrier.run { try await transport.sync([]) }
        }
        #expect(transport.attempts == 4)
        #expect(clock.sleeps == [0.2, 0.5, 1.0])
        #expect(log.notices.map(\.attempt) == [1, 2, 3])
        #expect(log.notices.first?.line(server: "http://127.0.0.1:9") == "cannot reach http://127.0.0.1:9 (connection refused); retrying in 0.2 s (attempt 2 of 4)")
    }

    @Test func aTransientFailureThatClearsUpIsInvisibleToTheCaller() async throws {
        let clock = FakeRetryClock()
        let transport = FlakyTransport(clock: clock, failures: [Self.unavailable, Self.timeout])
        let reply = try await Retrier(policy: .standard, clock: clock).run { try await transport.sync([]) }
        #expect(reply.cursor == "c1")
        #expect(transport.attempts == 3)
        #expect(clock.sleeps == [0.2, 0.5])
    }

    @Test func aPatientPolicyKeepsTryingUntilItsBudgetIsSpent() async throws {
        let clock = FakeRetryClock()
        let log = NoticeLog()
        // Every attempt times out after 3 s (the connect timeout).
        let transport = FlakyTransport(clock: clock, failures: Array(repeating: Self.timeout, count: 100), attemptTime: 3)
        let retrier = Retrier(policy: .patient(seconds: 40), clock: clock, observer: { log.append($0) })
        let start = clock.now()
        do {
            _ = try await retrier.run { try await transport.sync([]) }
            Issue.record("gave no error")
        } catch let gaveUp as Retrier.GaveUp {
            #expect(gaveUp.failure == Self.timeout)
            #expect(gaveUp.attempts == transport.attempts)
            #expect(gaveUp.elapsed <= 40 + 3, "no attempt starts after the budget")
        }
        // Attempts end at 3, 6.2, 9.7, 13.7, 18.7, 25.7, 33.7, 41.7 s: a wait of 5 s more would pass 40 s.
        #expect(clock.sleeps == [0.2, 0.5, 1, 2, 4, 5, 5])
        #expect(transport.attempts == 8)
        #expect(clock.now() - start <= 43)
        #expect(log.notices.allSatisfy { $0.maxAttempts == nil })
        #expect(log.notices.first?.line(server: "http://x") == "cannot reach http://x (connection timed out); retrying in 0.2 s (giving up in 37 s)")
    }

    @Test func zeroSecondsMeansOneAttempt() async throws {
        let clock = FakeRetryClock()
        let transport = FlakyTransport(clock: clock, failures: [Self.refused])
        await #expect(throws: Retrier.GaveUp.self) {
            _ = try await Retrier(policy: .patient(seconds: 0), clock: clock).run { try await transport.sync([]) }
        }
        #expect(transport.attempts == 1)
        #expect(clock.sleeps.isEmpty)
    }

    @Test func aRetryAfterIsWaitedOutUnlessItIsTooLong() async throws {
        let clock = FakeRetryClock()
        let limited = TransientFailure(.rateLimited, reason: "HTTP 429", retryAfter: 7)
        let transport = FlakyTransport(clock: clock, failures: [limited])
        _ = try await Retrier(policy: .patient(seconds: 60), clock: clock).run { try await transport.sync([]) }
        #expect(clock.sleeps == [7])

        let tooLong = FlakyTransport(clock: clock, failures: [TransientFailure(.rateLimited, reason: "HTTP 429", retryAfter: 600)])
        do {
            _ = try await Retrier(policy: .patient(seconds: 60), clock: clock).run { try await tooLong.sync([]) }
            Issue.record("waited 600 s")
        } catch let gaveUp as Retrier.GaveUp {
            #expect(gaveUp.waitTooLong)
            #expect(tooLong.attempts == 1)
        }
    }

    @Test func failuresAreClassifiedForTheRetryPolicy() {
        #expect(SyncClient.transientFailure(URLError(.cannotConnectToHost)).kind == .refused)
        #expect(SyncClient.transientFailure(URLError(.timedOut)).kind == .timeout)
        #expect(SyncClient.transientFailure(URLError(.networkConnectionLost)).kind == .network)
    }

    @Test func otherErrorsAreNotRetried() async throws {
        let clock = FakeRetryClock()
        let transport = FlakyTransport(clock: clock, failures: [])
        do {
            _ = try await Retrier(policy: .standard, clock: clock).run { () async throws -> Int in
                _ = try await transport.sync([])
                throw CXError(.permission, "refused")
            }
            Issue.record("no error")
        } catch let error as CXError {
            #expect(error.code == .permission)
        }
        #expect(transport.attempts == 1)
        #expect(clock.sleeps.isEmpty)
    }

    @Test func retryForAndTheEnvironmentChooseThePolicy() throws {
        #expect(try RetryPolicy.resolve(flag: nil, environment: [:]) == .standard)
        #expect(try RetryPolicy.resolve(flag: nil, environment: ["CX_RETRY_FOR": "45"]) == .patient(seconds: 45))
        #expect(try RetryPolicy.resolve(flag: 5, environment: ["CX_RETRY_FOR": "45"]) == .patient(seconds: 5))
        #expect(throws: CXError.self) { try RetryPolicy.resolve(flag: nil, environment: ["CX_RETRY_FOR": "soon"]) }
    }

    /// The real HTTP client against a port where nothing listens: the refusal is recognised
    /// (ECONNREFUSED, not a timeout), retried on the injected clock without waiting, and
    /// reported as exit 69 with advice that fits the command.
    @Test func aRefusedConnectionIsRecognisedAndGivenUpQuickly() async throws {
        let port = try closedPort()
        let clock = FakeRetryClock()
        let log = NoticeLog()
        let client = try SyncClient(
            server: "http://127.0.0.1:\(port)", token: "cx_test",
            retrier: Retrier(policy: .standard, clock: clock, observer: { log.append($0) }),
            unreachableHint: "Nothing was changed; run it again.")
        do {
            _ = try await client.history(of: "3f2a9c1e-0000-4000-8000-000000000001")
            Issue.record("a closed port answered")
        } catch let error as CXError {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("connection refused"), "\(error)")
            #expect(error.message.contains("4 attempts"), "\(error)")
            #expect(error.hint?.contains("Nothing was changed; run it again.") == true)
            #expect(error.hint?.contains("Local changes are kept") == false)
            #expect(error.hint?.contains("--retry-for") == true)
        }
        await client.shutdown()
        #expect(clock.sleeps == [0.2, 0.5, 1.0])
        // Recognised as refused on every attempt (not a connect timeout after 3 s each): the
        // waits are the fake clock's only, so no wall-clock bound is needed here.
        #expect(log.notices.count == 3 && log.notices.allSatisfy { $0.failure.kind == .refused })
    }

    /// A local port nothing listens on (bound, then closed).
    private func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
