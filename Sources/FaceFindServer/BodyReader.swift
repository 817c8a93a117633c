import Foundation
import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's basic one plus the connection, so that a handler can
/// close a connection whose client stalls (a slow client must not keep its socket after its 408).
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's connection.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// How long a client may take to send a request body: a deadline for the whole body and a minimum average
/// rate, so that a client trickling bytes is cut after seconds, not when it pleases.
struct BodyLimits: Sendable {
    /// Largest body accepted (413 beyond).
    var maxBytes: Int
    /// The whole body must have arrived this long after the handler starts reading it; nil: no deadline.
    var deadline: Duration?
    /// After `rateGrace`, the body must have arrived at this many bytes per second on average; 0: no minimum.
    var minimumBytesPerSecond: Int
    /// Time before the rate is first checked: TCP slow start and a slow first packet on a poor link.
    var rateGrace: Duration

    init(_ configuration: ServerConfiguration) {
        maxBytes = configuration.maxBodyBytes
        deadline = configuration.bodyTimeoutSeconds > 0 ? .seconds(configuration.bodyTimeoutSeconds) : nil
        minimumBytesPerSecond = max(0, configuration.minBodyBytesPerSecond)
        rateGrace = .seconds(configuration.bodyRateGraceSeconds)
    }

    /// When the body received so far (`received` bytes, `elapsed` after the start) is too late, or nil if it is
    /// not yet; otherwise the time at which to look again if nothing more arrives.
    func verdict(received: Int, elapsed: Duration) -> (late: String?, lookAgain: Duration) {
        if let deadline, elapsed >= deadline {
            return ("the request body did not arrive within \(deadline.seconds.formatted) s", .zero)
        }
        var next = deadline ?? .seconds(3600)
        if minimumBytesPerSecond > 0 {
            // The rate falls below the minimum at received / minimum seconds (never before the grace period).
            let rateDue = max(rateGrace, .nanoseconds(Int64(Double(received) / Double(minimumBytesPerSecond) * 1e9)))
            if elapsed >= rateDue {
                let rate = elapsed > .zero ? Double(received) / elapsed.seconds : 0
                return ("the request body arrived at \(Int(rate)) bytes/s, below the minimum of "
                        + "\(minimumBytesPerSecond) bytes/s", .zero)
            }
            next = min(next, rateDue)
        }
        return (nil, next)
    }
}

/// Reads request bodies within `BodyLimits`.
enum BodyReader {
    /// The whole body, or `APIError.tooLarge` (413) past the size limit, or `APIError.requestTimeout` (408)
    /// when the client is too slow; then `onTimeout` runs (it closes the connection and counts the client).
    static func collect(_ body: RequestBody, limits: BodyLimits,
                        onTimeout: @escaping @Sendable (String) -> Void) async throws -> ByteBuffer {
        do {
            return try await collectOrTimeOut(body, limits: limits)
        } catch let error as APIError where error.status == .requestTimeout {
            // Only now, with the reader stopped: closing earlier would end its stream with an error of its own.
            onTimeout(error.message)
            throw error
        }
    }

    private static func collectOrTimeOut(_ body: RequestBody, limits: BodyLimits) async throws -> ByteBuffer {
        let received = ReceivedBytes()
        let start = ContinuousClock.now
        return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                var buffer = ByteBuffer()
                for try await chunk in body {
                    guard buffer.readableBytes + chunk.readableBytes <= limits.maxBytes else {
                        throw APIError.tooLarge("request body is larger than the limit of \(limits.maxBytes) bytes")
                    }
                    var chunk = chunk
                    buffer.writeBuffer(&chunk)
                    received.set(buffer.readableBytes)
                }
                // A stream ended by cancellation is not a whole body.
                try Task.checkCancellation()
                return buffer
            }
            group.addTask {
                // The watchdog: sleeps until the body would be late if nothing more came, then looks again.
                while true {
                    let (late, lookAgain) = limits.verdict(received: received.value,
                                                           elapsed: ContinuousClock.now - start)
                    if let late { throw APIError.requestTimeout(late) }
                    try await Task.sleep(until: start + lookAgain, clock: .continuous)
                }
            }
            defer { group.cancelAll() }
            // The body (a buffer) or the watchdog's error, whichever comes first.
            guard let first = try await group.next(), let buffer = first else {
                throw APIError.requestTimeout("the request body did not arrive")
            }
            return buffer
        }
    }
}

/// The bytes of a body received so far, shared between the reader and its watchdog.
private final class ReceivedBytes: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func set(_ value: Int) { lock.withLock { count = value } }
}

extension Double {
    /// At most one decimal, without a trailing ".0": 60, 2.5.
    var formatted: String {
        self == rounded() ? String(Int(self)) : String(format: "%.1f", self)
    }
}
