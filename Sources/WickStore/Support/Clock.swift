#if canImport(Glibc)
import Glibc
#endif

/// Receive time: the daemon's wall clock in microseconds since the Unix epoch. Everything
/// operational (frame and segment time ranges, rotation by age, retention) uses it, never the
/// clients' event times.
public struct ReceiveClock: Sendable {
    private let now: @Sendable () -> Int64

    public init(_ now: @escaping @Sendable () -> Int64) {
        self.now = now
    }

    public static let system = ReceiveClock {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }

    public func microseconds() -> Int64 {
        now()
    }
}

/// Monotonic time in nanoseconds, for intervals (fsync latency, commit timers).
@usableFromInline
func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}
