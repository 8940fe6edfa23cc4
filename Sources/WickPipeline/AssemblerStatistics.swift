public import Synchronization

/// What the assembler has done, for metrics and `wick stats`.
public final class AssemblerStatistics: Sendable {
    public let eventsRead = Atomic<Int>(0)
    public let tracesSettled = Atomic<Int>(0)
    /// Traces that got events after they had settled, and were folded again.
    public let tracesReopened = Atomic<Int>(0)
    /// Frames of sealed segments (compacted documents, mostly) decompressed to reopen them.
    public let reopenFramesRead = Atomic<Int>(0)
    /// Open traces whose events were dropped from memory (the byte cap), to be read back at settle.
    public let tracesSpilled = Atomic<Int>(0)
    public let openTraces = Atomic<Int>(0)
    public let openBytes = Atomic<Int>(0)
    public let sdkLogs = Atomic<Int>(0)
    /// Events that name no trace (session or dataset-run scores).
    public let eventsWithoutTrace = Atomic<Int>(0)
    public let errors = Atomic<Int>(0)
    /// The next sequence number to read.
    public let position = Atomic<UInt64>(0)
    private let rejects = Mutex<[String: Int]>([:])
    /// Seconds from an event being durable to the assembler having it, cumulative buckets.
    public let lag = LagHistogram()

    public init() {}

    func lateReject(_ reason: String) {
        rejects.withLock { $0[reason, default: 0] += 1 }
    }

    public var lateRejectsByReason: [String: Int] { rejects.withLock { $0 } }
}

/// Lag samples in milliseconds, kept exactly (bounded) for percentiles, and counted in buckets.
public final class LagHistogram: Sendable {
    public static let boundsMilliseconds: [Double] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]
    private let state = Mutex<(buckets: [Int], count: Int, sum: Double, recent: [Double])>(([Int](repeating: 0, count: 12), 0, 0, []))

    public init() {}

    func record(milliseconds: Double) {
        state.withLock { state in
            let index = Self.boundsMilliseconds.firstIndex { milliseconds <= $0 } ?? Self.boundsMilliseconds.count
            state.buckets[index] += 1
            state.count += 1
            state.sum += milliseconds
            state.recent.append(milliseconds)
            if state.recent.count > 200_000 { state.recent.removeFirst(100_000) }
        }
    }

    public struct Snapshot: Sendable {
        public var cumulative: [Int]
        public var count: Int
        public var sumMilliseconds: Double
        /// Percentiles of the recent samples (nil without samples).
        public var p50: Double?
        public var p99: Double?
    }

    public func snapshot() -> Snapshot {
        state.withLock { state in
            var running = 0
            let cumulative = state.buckets.map { running += $0; return running }
            let sorted = state.recent.sorted()
            func percentile(_ p: Double) -> Double? {
                sorted.isEmpty ? nil : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
            }
            return Snapshot(cumulative: cumulative, count: state.count, sumMilliseconds: state.sum,
                            p50: percentile(0.5), p99: percentile(0.99))
        }
    }
}
