public import Synchronization

/// Counters a log keeps as it works; read by metrics and `wick stats`. Plain atomics, so the writer
/// thread pays a few nanoseconds per commit, not a lock.
public final class LogStatistics: Sendable {
    public let appendedRecords = Atomic<Int>(0)
    public let appendedBytes = Atomic<Int>(0)
    public let committedRecords = Atomic<Int>(0)
    public let commits = Atomic<Int>(0)
    public let framesWritten = Atomic<Int>(0)
    /// Bytes of records before compression, and of frames on disk after.
    public let uncompressedBytes = Atomic<Int>(0)
    public let compressedBytes = Atomic<Int>(0)
    public let fsyncs = Atomic<Int>(0)
    public let fsyncLatency = LatencyHistogram()
    public let writeErrors = Atomic<Int>(0)
    public let fsyncErrors = Atomic<Int>(0)
    /// Times the writer held data back because the disk was full or below its reserve.
    public let diskFullStalls = Atomic<Int>(0)
    public let segmentsCreated = Atomic<Int>(0)
    public let segmentsSealed = Atomic<Int>(0)
    /// Monotonic nanoseconds of the writer loop's last turn: the watchdog's proof of life.
    public let lastWriterTurn = Atomic<UInt64>(0)

    public init() {}
}

/// A fixed-bucket latency histogram in microseconds (Prometheus `le` buckets). A lock, not atomics:
/// it is touched once per fsync, a few thousand times a second at most.
public final class LatencyHistogram: Sendable {
    /// Upper bounds in microseconds.
    public static let bounds: [Int] = [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000]
    private let state = Mutex<(buckets: [Int], count: Int, sum: Int)>(([Int](repeating: 0, count: 14), 0, 0))

    public init() {}

    public func record(microseconds: Int) {
        let index = Self.bounds.firstIndex { microseconds <= $0 } ?? Self.bounds.count
        state.withLock {
            $0.buckets[index] += 1
            $0.count += 1
            $0.sum += microseconds
        }
    }

    public struct Snapshot: Sendable {
        /// Cumulative counts per bound, then the +Inf total.
        public var cumulative: [Int]
        public var count: Int
        public var sumMicroseconds: Int
    }

    public func snapshot() -> Snapshot {
        state.withLock { state in
            var running = 0
            let cumulative = state.buckets.map { running += $0; return running }
            return Snapshot(cumulative: cumulative, count: state.count, sumMicroseconds: state.sum)
        }
    }
}
