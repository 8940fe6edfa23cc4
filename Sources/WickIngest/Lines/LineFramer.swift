#if canImport(Glibc)
import Glibc
#endif

/// Splits a byte stream into newline-terminated lines with a hard length limit. Complete lines in a
/// chunk are handed out in place (no copy); only a line split across reads is carried over. A line
/// over the limit is reported once, then skipped up to the next newline, so the stream
/// resynchronises and later lines are unharmed.
///
/// Pure: a state machine over bytes, tested without sockets.
public struct LineFramer: Sendable {
    public let maxLineBytes: Int
    private var carry: [UInt8] = []
    /// Skipping the rest of an over-long line.
    private var discarding = false

    public init(maxLineBytes: Int) {
        precondition(maxLineBytes > 0, "maxLineBytes must be positive")
        self.maxLineBytes = maxLineBytes
    }

    public enum Event {
        /// A complete line, without its newline.
        case line(UnsafeRawBufferPointer)
        /// A line longer than the limit: its first `maxLineBytes` bytes and, once known, its full
        /// length (nil when the line has not ended yet).
        case tooLong(prefix: UnsafeRawBufferPointer, length: Int?)
    }

    /// Bytes held for a line not yet complete.
    public var pendingBytes: Int { carry.count }

    /// Feeds one chunk; `body` sees every event it completes, in order.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, _ body: (Event) -> Void) {
        var start = 0
        while start < chunk.count {
            let remaining = UnsafeRawBufferPointer(rebasing: chunk[start...])
            let newline = Self.indexOfNewline(remaining)
            if discarding {
                guard let newline else { return }
                discarding = false
                start += newline + 1
                continue
            }
            guard let newline else {
                // No newline in what is left: keep it for the next chunk, unless that already breaks the limit.
                if carry.count + remaining.count > maxLineBytes {
                    startDiscarding(with: remaining, body)
                } else {
                    carry.append(contentsOf: remaining)
                }
                return
            }
            let piece = UnsafeRawBufferPointer(rebasing: remaining[..<newline])
            if carry.isEmpty {
                if piece.count > maxLineBytes {
                    body(.tooLong(prefix: UnsafeRawBufferPointer(rebasing: piece[..<maxLineBytes]), length: piece.count))
                } else {
                    body(.line(piece))
                }
            } else if carry.count + piece.count > maxLineBytes {
                let length = carry.count + piece.count
                let needed = maxLineBytes - carry.count
                carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: piece[..<max(0, needed)]))
                carry.withUnsafeBytes { body(.tooLong(prefix: $0, length: length)) }
                carry.removeAll(keepingCapacity: true)
            } else {
                carry.append(contentsOf: piece)
                carry.withUnsafeBytes { body(.line($0)) }
                carry.removeAll(keepingCapacity: carry.capacity <= 64 * 1024)
            }
            start += newline + 1
        }
    }

    /// The end of the stream: a last line without a newline is still a line.
    public mutating func finish(_ body: (Event) -> Void) {
        if discarding {
            discarding = false
            return
        }
        guard !carry.isEmpty else { return }
        carry.withUnsafeBytes { body(.line($0)) }
        carry.removeAll()
    }

    /// Drops a partial line (the connection is being closed by the server, not the client).
    public mutating func reset() {
        carry.removeAll()
        discarding = false
    }

    private mutating func startDiscarding(with remaining: UnsafeRawBufferPointer, _ body: (Event) -> Void) {
        let needed = maxLineBytes - carry.count
        carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: remaining[..<max(0, needed)]))
        carry.withUnsafeBytes { body(.tooLong(prefix: $0, length: nil)) }
        carry.removeAll(keepingCapacity: false)
        discarding = true
    }

    @inline(__always)
    public static func indexOfNewline(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress, bytes.count > 0,
              let found = memchr(base, 0x0A, bytes.count)
        else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }
}

/// Not Sendable: its lines borrow the caller's buffer.
@available(*, unavailable)
extension LineFramer.Event: Sendable {}
