import CWickLinux
import Synchronization
import WickJSON
import WickStore

#if canImport(Glibc)
import Glibc
#endif

/// The client side of the socket protocol, for `wick send`, scripts, tests and benchmarks. Plain
/// blocking sockets: one process, one connection, as fast as the daemon takes it.
public enum Sender: Sendable {
    /// Sends every line of `input` (NDJSON bytes, complete lines; a missing final newline is added).
    public static func send(_ input: [UInt8], options: SendOptions) throws -> SendSummary {
        let start = monotonicSeconds()
        var summary: SendSummary
        switch options.target {
        case .unixStream(let path):
            summary = try sendStream(input, path: path, options: options)
        case .udp(let host, let port):
            summary = try sendDatagrams(input, socket: try DatagramSocket.udp(host: host, port: port), options: options)
        case .unixDatagram(let path):
            summary = try sendDatagrams(input, socket: try DatagramSocket.unix(path: path), options: options)
        }
        summary.seconds = monotonicSeconds() - start
        return summary
    }

    // MARK: - Unix stream

    private static func sendStream(_ input: [UInt8], path: String, options: SendOptions) throws -> SendSummary {
        let fd = try connectUnixStream(path)
        defer { close(fd) }
        var summary = SendSummary()
        let acks = AckReader(descriptor: fd)
        var reader: WorkerThread? = nil
        if options.acknowledged {
            try writeAll(fd, Array("{\"wick\":{\"ack\":true}}\n".utf8))
            reader = WorkerThread(name: "wick-send-acks") { acks.run() }
        }
        var body = input
        if let last = body.last, last != 0x0A { body.append(0x0A) }
        var sentBytes = 0
        var sentLines = 0
        do {
            if let rate = options.rate, rate > 0 {
                try paced(body, rate: rate) { chunk in
                    try writeAll(fd, chunk)
                    sentBytes += chunk.count
                    sentLines += chunk.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                    if options.acknowledged { acks.wrote(through: sentLines, at: monotonicSeconds()) }
                }
            } else {
                // Large writes: one syscall per 256 KiB, cut at a line's end so that each is timed.
                while sentBytes < body.count {
                    var end = min(body.count, sentBytes + 256 * 1024)
                    while end < body.count && body[end - 1] != 0x0A { end += 1 }
                    try body[sentBytes..<end].withUnsafeBytes { try writeAll(fd, $0) }
                    sentLines += body[sentBytes..<end].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                    sentBytes = end
                    if options.acknowledged { acks.wrote(through: sentLines, at: monotonicSeconds()) }
                }
            }
        } catch {
            // The daemon closed the connection (shutting down, or a storage failure): report what
            // was sent and acknowledged so far, not just the error.
            summary.error = "\(error)"
        }
        summary.lines = body[..<sentBytes].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        summary.bytes = sentBytes
        shutdown(fd, Int32(SHUT_WR))
        if let reader {
            // The daemon closes the connection once every line is acknowledged.
            reader.join()
            let state = acks.result
            summary.acknowledged = state.lines
            summary.rejected = state.rejected
            summary.ackLatency = AckLatency(state.latencies)
            if let error = state.error { summary.error = error }
        } else {
            // Wait for the daemon to close, so that everything sent was at least read.
            var scratch = [UInt8](repeating: 0, count: 4096)
            while read(fd, &scratch, scratch.count) > 0 {}
        }
        return summary
    }

    private static func connectUnixStream(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, CWickLinux_SOCK_STREAM() | CWickLinux_SOCK_CLOEXEC(), 0)
        guard fd >= 0 else { throw SendError(message: "socket: \(errorText())") }
        var address = try unixAddress(path)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let text = errorText()
            close(fd)
            throw SendError(message: "cannot connect to \(path): \(text) (is `wick serve` running?)")
        }
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0) }
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a daemon that closed the connection is an error to report, not a SIGPIPE.
            let written = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if written < 0 {
                if errno == EINTR { continue }
                throw SendError(message: "send: \(errorText())")
            }
            offset += written
        }
    }

    /// Calls `emit` with runs of whole lines so that `rate` lines per second go out, in steps of a
    /// millisecond or so.
    private static func paced(_ body: [UInt8], rate: Double, _ emit: ([UInt8]) throws -> Void) throws {
        let start = monotonicSeconds()
        var sent = 0
        var offset = 0
        while offset < body.count {
            let due = Int((monotonicSeconds() - start) * rate) + 1
            if due <= sent {
                let wait = Double(sent + 1) / rate - (monotonicSeconds() - start)
                if wait > 0 { usleep(UInt32(min(wait, 0.01) * 1_000_000)) }
                continue
            }
            var end = offset
            var count = 0
            while end < body.count && count < due - sent {
                if body[end] == 0x0A { count += 1 }
                end += 1
            }
            try emit(Array(body[offset..<end]))
            sent += count
            offset = end
        }
    }

    // MARK: - Datagrams

    private static func sendDatagrams(_ input: [UInt8], socket: DatagramSocket, options: SendOptions) throws -> SendSummary {
        defer { socket.close() }
        var summary = SendSummary()
        // One line per datagram.
        var ranges: [Range<Int>] = []
        var start = 0
        input.withUnsafeBytes { raw in
            while start < raw.count {
                let rest = UnsafeRawBufferPointer(rebasing: raw[start...])
                let end = LineFramer.indexOfNewline(rest).map { start + $0 + 1 } ?? raw.count
                ranges.append(start..<end)
                start = end
            }
        }
        summary.lines = ranges.count
        summary.bytes = input.count
        let limit = socket.maxDatagram
        let startTime = monotonicSeconds()
        var index = 0
        try input.withUnsafeBytes { raw in
            var pointers: [UnsafeRawPointer?] = []
            var lengths: [Int] = []
            pointers.reserveCapacity(options.datagramBatch)
            lengths.reserveCapacity(options.datagramBatch)
            while index < ranges.count {
                if let rate = options.rate, rate > 0 {
                    let due = Int((monotonicSeconds() - startTime) * rate) + 1
                    if due <= index {
                        let wait = Double(index + 1) / rate - (monotonicSeconds() - startTime)
                        if wait > 0.0002 { usleep(UInt32(min(wait, 0.01) * 1_000_000)) }
                        continue
                    }
                }
                pointers.removeAll(keepingCapacity: true)
                lengths.removeAll(keepingCapacity: true)
                var end = index
                let cap = options.rate.map { max(1, min(options.datagramBatch, Int((monotonicSeconds() - startTime) * $0) + 1 - index)) }
                    ?? options.datagramBatch
                while end < ranges.count && pointers.count < cap {
                    let range = ranges[end]
                    if range.count > limit {
                        summary.unsent += 1
                    } else {
                        pointers.append(raw.baseAddress! + range.lowerBound)
                        lengths.append(range.count)
                    }
                    end += 1
                }
                var done = 0
                while done < pointers.count {
                    let sent = try socket.send(Array(pointers[done...]), Array(lengths[done...]))
                    if sent <= 0 {
                        // The kernel refused the datagram (ENOBUFS, ECONNREFUSED): count and move on.
                        summary.unsent += 1
                        done += 1
                    } else {
                        summary.datagrams += sent
                        done += sent
                    }
                }
                index = end
            }
        }
        return summary
    }
}

func monotonicSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func errorText() -> String {
    String(cString: strerror(errno))
}

func unixAddress(_ path: String) throws -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
        throw SendError(message: "socket path longer than \(MemoryLayout.size(ofValue: address.sun_path) - 1) bytes: \(path)")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
    return address
}
