import NIOCore
import Synchronization

/// The open stream connections, so that shutdown can ask each to drain and wait until all are gone.
final class ConnectionRegistry: Sendable {
    private struct State {
        var connections: [ObjectIdentifier: @Sendable () -> Void] = [:]
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func add(_ channel: any Channel, drain: @escaping @Sendable () -> Void) {
        state.withLock { $0.connections[ObjectIdentifier(channel)] = drain }
    }

    func remove(_ channel: any Channel) {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.connections[ObjectIdentifier(channel)] = nil
            guard state.connections.isEmpty else { return [] }
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    var count: Int { state.withLock { $0.connections.count } }

    /// Asks every connection to drain, then waits until all have closed.
    func drainAll() async {
        let drains = state.withLock { Array($0.connections.values) }
        for drain in drains { drain() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now: Bool = state.withLock { state in
                if state.connections.isEmpty { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
