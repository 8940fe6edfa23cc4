public import Synchronization
public import WickModel

/// What the ingest side has seen, for metrics and `wick stats`. Hot counters are atomics; rejects
/// and drops by reason sit behind a lock, since they are rare.
public final class IngestCounters: Sendable {
    public let linesReceived = Atomic<Int>(0)
    public let bytesReceived = Atomic<Int>(0)
    public let eventsAccepted = Atomic<Int>(0)
    public let linesRejected = Atomic<Int>(0)
    public let emptyLines = Atomic<Int>(0)
    public let datagramsReceived = Atomic<Int>(0)
    public let connectionsAccepted = Atomic<Int>(0)
    public let connectionsOpen = Atomic<Int>(0)
    public let acksSent = Atomic<Int>(0)
    /// Times a stream connection stopped being read because the store was behind.
    public let backPressurePauses = Atomic<Int>(0)
    private let rejected = Mutex<[String: Int]>([:])
    private let dropped = Mutex<[String: Int]>([:])

    public init() {}

    public func reject(_ reason: RejectReason, count: Int = 1) {
        rejected.withLock { $0[reason.rawValue, default: 0] += count }
        linesRejected.add(count, ordering: .relaxed)
    }

    /// Inputs dropped without a dead letter (UDP under back-pressure): counted, by reason.
    public func drop(_ reason: String, count: Int = 1) {
        dropped.withLock { $0[reason, default: 0] += count }
    }

    public var rejectedByReason: [String: Int] { rejected.withLock { $0 } }
    public var droppedByReason: [String: Int] { dropped.withLock { $0 } }
}
