import Synchronization

/// Forces chosen system calls to fail, so tests can produce what a real disk cannot do on demand:
/// ENOSPC on a write, EIO on the Nth fsync. Compiled into debug builds only (`ENABLE_MOCKING`); in
/// release builds the type exists but is never consulted.
public final class FaultInjector: Sendable {
    public enum Call: Sendable, Hashable {
        case write
        case fsync
    }

    public struct Rule: Sendable {
        public var call: Call
        /// Only paths containing this substring (empty: every path).
        public var pathContains: String
        /// Skip this many matching calls before failing.
        public var after: Int
        /// Fail this many calls, then stop (Int.max: until cleared).
        public var times: Int
        public var errno: Errno

        public init(call: Call, pathContains: String = "", after: Int = 0, times: Int = 1, errno: Errno) {
            self.call = call
            self.pathContains = pathContains
            self.after = after
            self.times = times
            self.errno = errno
        }
    }

    private let state = Mutex<(rules: [Rule], calls: [Call: Int], injected: Int)>(([], [:], 0))

    public init() {}

    public func add(_ rule: Rule) {
        state.withLock { $0.rules.append(rule) }
    }

    public func clear() {
        state.withLock { $0.rules.removeAll() }
    }

    /// How many failures were injected so far.
    public var injectedCount: Int {
        state.withLock { $0.injected }
    }

    func check(_ call: Call, path: String) -> Errno? {
        state.withLock { state in
            state.calls[call, default: 0] += 1
            for index in state.rules.indices where state.rules[index].call == call {
                let rule = state.rules[index]
                guard rule.pathContains.isEmpty || path.contains(rule.pathContains) else { continue }
                if rule.after > 0 {
                    state.rules[index].after -= 1
                    continue
                }
                guard rule.times > 0 else { continue }
                if rule.times != Int.max { state.rules[index].times -= 1 }
                state.injected += 1
                return rule.errno
            }
            return nil
        }
    }
}
