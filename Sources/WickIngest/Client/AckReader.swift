import Synchronization
import WickJSON

#if canImport(Glibc)
import Glibc
#endif

/// Reads the daemon's ack lines (`{"ack":N,"rejected":R}`, or `{"error":…}`) until it closes.
final class AckReader: Sendable {
    struct Result: Sendable {
        var lines = 0
        var rejected = 0
        var error: String? = nil
    }

    private let descriptor: Int32
    private let state = Mutex(Result())

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    var result: Result { state.withLock { $0 } }

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
                    state.withLock { result in
                        if let lines = value["ack"]?.numberValue?.int64Value { result.lines = Int(lines) }
                        if let rejected = value["rejected"]?.numberValue?.int64Value { result.rejected = Int(rejected) }
                        if let error = value["error"]?.stringValue { result.error = error }
                    }
                }
            }
        }
    }
}
