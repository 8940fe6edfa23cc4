import CWickLinux
#if canImport(Glibc)
import Glibc
#endif

/// A dedicated OS thread for blocking work (write, fsync, LMDB commits), kept off Swift's
/// cooperative pool and off event loops (STYLE.md §4.3 rule 6).
public final class WorkerThread: Sendable {
    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    private let thread: pthread_t

    /// - Parameter nice: a scheduling nice value for this thread (0 keeps the process's).
    public init(name: String, nice: Int32 = 0, _ body: @escaping @Sendable () -> Void) {
        let threadName = String(name.prefix(15))
        let box = Unmanaged.passRetained(Box {
            CWickLinux_set_thread_name(threadName)
            if nice != 0 { _ = CWickLinux_set_thread_nice(nice) }
            body()
        }).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { raw in
            // The box was retained for exactly this thread; take that reference back.
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        thread = handle
    }

    public func join() {
        pthread_join(thread, nil)
    }
}

/// A mutex with a condition variable: the writer and indexer threads sleep on it until work arrives
/// or a timer is due. `Synchronization.Mutex` has no condition variable.
final class ConditionLock<State>: @unchecked Sendable {
    // @unchecked: `state` is only touched while `mutex` is held (every access goes through withLock).
    private var state: State
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init(_ state: State) {
        self.state = state
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }

    /// Wakes every waiter after changing the state.
    func withLockSignal<R>(_ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
        return try body(&state)
    }

    /// Waits until `ready` holds or the monotonic deadline passes, then runs `body` under the lock.
    func wait<R>(until ready: (State) -> Bool, deadlineNanoseconds: UInt64?, _ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !ready(state) {
            if let deadline = deadlineNanoseconds {
                if monotonicNanoseconds() >= deadline { break }
                var spec = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
                pthread_cond_timedwait(condition, mutex, &spec)
            } else {
                pthread_cond_wait(condition, mutex)
            }
        }
        return try body(&state)
    }
}
