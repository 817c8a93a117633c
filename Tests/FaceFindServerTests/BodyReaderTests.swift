import Foundation
import Hummingbird
import NIOCore
import Testing

@testable import FaceFindServer

/// The deadline and minimum rate of request bodies: the rule by hand-computed cases, then real streams.
@Suite struct BodyReaderTests {
    static func limits(deadline: Int = 60, rate: Int = 4096, grace: Int = 5) -> BodyLimits {
        var configuration = ServerConfiguration(apiKey: "k", uploadsDirectory: "/tmp")
        configuration.bodyTimeoutSeconds = deadline
        configuration.minBodyBytesPerSecond = rate
        configuration.bodyRateGraceSeconds = grace
        return BodyLimits(configuration)
    }

    @Test func theRateIsCheckedAfterTheGraceAndTheDeadlineAlways() {
        let limits = Self.limits()
        // Nothing received: late at the end of the 5 s grace, not before.
        #expect(limits.verdict(received: 0, elapsed: .seconds(4.9)).late == nil)
        #expect(limits.verdict(received: 0, elapsed: .seconds(4.9)).lookAgain == .seconds(5))
        #expect(limits.verdict(received: 0, elapsed: .seconds(5)).late?.contains("0 bytes/s") == true)
        // 40,960 bytes cover 10 s at 4,096 bytes/s: on time at 9.9 s, late at 10 s (4,096 bytes/s is the floor).
        #expect(limits.verdict(received: 40_960, elapsed: .seconds(9.9)).late == nil)
        #expect(limits.verdict(received: 40_960, elapsed: .seconds(9.9)).lookAgain == .seconds(10))
        #expect(limits.verdict(received: 40_959, elapsed: .seconds(10)).late != nil)
        // A fast body still meets the deadline: 10 MB at 60 s.
        #expect(limits.verdict(received: 10_000_000, elapsed: .seconds(59)).lookAgain == .seconds(60))
        #expect(limits.verdict(received: 10_000_000, elapsed: .seconds(60)).late?.contains("within 60 s") == true)
        // Each check off: no rate (only the deadline), no deadline (only the rate).
        #expect(Self.limits(rate: 0).verdict(received: 0, elapsed: .seconds(59)).late == nil)
        #expect(Self.limits(deadline: 0).verdict(received: 1 << 30, elapsed: .seconds(3600)).late == nil)
        #expect(Self.limits(deadline: 0, rate: 0).verdict(received: 0, elapsed: .seconds(1e6)).late == nil)
    }

    /// A body that sends `first` bytes, then nothing more for a minute.
    static func stalling(_ first: Int) -> RequestBody {
        let stream = AsyncStream<ByteBuffer> { continuation in
            continuation.yield(ByteBuffer(bytes: [UInt8](repeating: 1, count: first)))
            let task = Task {
                try? await Task.sleep(for: .seconds(60))
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return RequestBody(asyncSequence: stream)
    }

    @Test func aStalledBodyIsCutAtItsDeadlineAndReported() async throws {
        let start = ContinuousClock.now
        let reasons = Reasons()
        let error = await #expect(throws: APIError.self) {
            try await BodyReader.collect(Self.stalling(10), limits: Self.limits(deadline: 1, rate: 0)) { reasons.add($0) }
        }
        let elapsed = ContinuousClock.now - start
        #expect(error?.status == .requestTimeout && error?.code == "request_timeout")
        #expect(error?.headers[.connection] == "close")
        #expect(reasons.all == ["the request body did not arrive within 1 s"])
        // Not before the deadline. (No upper bound: with the whole suite running, the test process's threads
        // can be busy for many seconds; the live-server tests check how soon a real server cuts a client.)
        #expect(elapsed >= .seconds(1), "cut at the deadline, not before: \(elapsed)")
    }

    @Test func aTrickleBelowTheRateIsCutAfterTheGrace() async throws {
        let start = ContinuousClock.now
        let reasons = Reasons()
        let error = await #expect(throws: APIError.self) {
            try await BodyReader.collect(Self.stalling(100), limits: Self.limits(deadline: 0, rate: 1000, grace: 1)) {
                reasons.add($0)
            }
        }
        #expect(error?.status == .requestTimeout)
        // 100 bytes cover 0.1 s at 1,000 bytes/s, so the check falls at the 1 s grace, not before.
        #expect(reasons.all.count == 1 && reasons.all.first?.contains("below the minimum of 1000 bytes/s") == true)
        #expect(ContinuousClock.now - start >= .seconds(1))
    }

    @Test func aWholeBodyIsReturnedAndTheWatchdogStops() async throws {
        let body = RequestBody(buffer: ByteBuffer(bytes: Array(0..<200)))
        let buffer = try await BodyReader.collect(body, limits: Self.limits(deadline: 1, rate: 1 << 20)) { _ in
            Issue.record("no timeout for a body that arrived")
        }
        #expect(Array(buffer.readableBytesView) == Array(0..<200))
        try await Task.sleep(for: .seconds(1.5))  // past the deadline: the watchdog must be gone
    }
}

private final class Reasons: @unchecked Sendable {
    private let lock = NSLock()
    private var reasons: [String] = []
    func add(_ reason: String) { lock.withLock { reasons.append(reason) } }
    var all: [String] { lock.withLock { reasons } }
}
