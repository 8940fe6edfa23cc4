import Synchronization
import WickJSON

#if canImport(Glibc)
import Glibc
#endif

/// Reads the daemon's ack lines (`{"ack":N,"rejected":R}`, or `{"error":…}`) until it closes, and
/// times each line from when it was written to when an ack covered it.
final class AckReader: Sendable {
    struct Result: Sendable {
        var lines = 0
        var rejected = 0
        var error: String? = nil
        /// Seconds from write to ack, and how many lines waited that long (one entry per write).
        var latencies: [(seconds: Double, lines: Int)] = []
    }

    private let descriptor: Int32
    private let state = Mutex(Result())
    /// Writes not acknowledged yet: (lines written through the end of it, when).
    private let written = Mutex<(entries: [(through: Int, at: Double)], head: Int)>(([], 0))

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    var result: Result { state.withLock { $0 } }

    /// The sender wrote lines up to `through` (counted from the first after the hello) at `at`.
    func wrote(through: Int, at: Double) {
        written.withLock { $0.entries.append((through, at)) }
    }

    private func acknowledged(through lines: Int, at now: Double) -> [(Double, Int)] {
        written.withLock { written in
            var result: [(Double, Int)] = []
            var previous = written.head > 0 ? written.entries[written.head - 1].through : 0
            while written.head < written.entries.count, written.entries[written.head].through <= lines {
                let entry = written.entries[written.head]
                result.append((now - entry.at, entry.through - previous))
                previous = entry.through
                written.head += 1
            }
            return result
        }
    }

    func run() {
        var framer = LineFramer(maxLineBytes: 4096)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            buffer[0..<count].withUnsafeBytes { bytes in
                framer.feed(bytes) { event in
                    guard case .line(let line) = event, let value = try? JSONValue.parse(line) else { return }
                    let timed = value["ack"]?.numberValue?.int64Value.map { acknowledged(through: Int($0), at: monotonicSeconds()) } ?? []
                    state.withLock { result in
                        result.latencies.append(contentsOf: timed)
                        if let lines = value["ack"]?.numberValue?.int64Value { result.lines = Int(lines) }
                        if let rejected = value["rejected"]?.numberValue?.int64Value { result.rejected = Int(rejected) }
                        if let error = value["error"]?.stringValue { result.error = error }
                    }
                }
            }
        }
    }
}
