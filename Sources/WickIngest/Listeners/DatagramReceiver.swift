import CWickLinux
import Logging
import Synchronization
import WickModel
import WickStore

#if canImport(Glibc)
import Glibc
#endif

/// UDP and Unix datagram input: one dedicated thread per socket, reading up to 64 datagrams per
/// recvmmsg(2) call, each holding one or more NDJSON lines. Best effort by design: while the store is
/// behind, datagrams are read and dropped (counted) rather than queued without bound, so the
/// kernel's buffer keeps draining.
final class DatagramReceiver: Sendable {
    private let descriptor: Int32
    private let ingest: IngestContext
    private let project: [UInt8]
    private let source: IngestSource
    private let sliceBytes: Int
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<WorkerThread?>(nil)

    /// Datagrams per recvmmsg call: 64 for UDP, fewer for large Unix datagram slices, so that the
    /// receive buffer stays at 4 MiB.
    private var messagesPerCall: Int { max(4, min(64, (4 << 20) / sliceBytes)) }

    init(descriptor: Int32, ingest: IngestContext, project: [UInt8], source: IngestSource, sliceBytes: Int) {
        self.descriptor = descriptor
        self.ingest = ingest
        self.project = project
        self.source = source
        self.sliceBytes = sliceBytes
    }

    func start() {
        let worker = WorkerThread(name: source == .udp ? "wick-udp" : "wick-dgram") { [self] in run() }
        thread.withLock { $0 = worker }
    }

    /// Stops reading (within the poll interval) and closes the socket.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        let worker: WorkerThread? = thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
        worker?.join()
        close(descriptor)
    }

    private func run() {
        let count = messagesPerCall
        var buffer = [UInt8](repeating: 0, count: sliceBytes * count)
        var lengths = [Int](repeating: 0, count: count)
        var truncated = [Int32](repeating: 0, count: count)
        var events = RecordBatch(reservingCapacity: 256 * 1024)
        var rejects = RecordBatch()
        let counters = ingest.counters
        while !stopping.load(ordering: .relaxed) {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            // The timeout only bounds how long stop() waits.
            guard poll(&poller, 1, 100) > 0 else { continue }
            while true {
                let received = buffer.withUnsafeMutableBytes { raw in
                    lengths.withUnsafeMutableBufferPointer { lengthsBuffer in
                        truncated.withUnsafeMutableBufferPointer { flags in
                            CWickLinux_recvmmsg_slices(descriptor, raw.baseAddress, sliceBytes, UInt32(count),
                                                       lengthsBuffer.baseAddress, flags.baseAddress)
                        }
                    }
                }
                if received <= 0 { break }
                var outcome = LineProcessor.Outcome()
                counters.datagramsReceived.add(Int(received), ordering: .relaxed)
                let overloaded = ingest.store.events.isOverloaded
                if overloaded { counters.drop("overloaded", count: Int(received)) }
                let receiveTime = ReceiveClock.system.microseconds()
                buffer.withUnsafeBytes { raw in
                    project.withUnsafeBytes { project in
                        var bytes = 0
                        defer { counters.bytesReceived.add(bytes, ordering: .relaxed) }
                        for index in 0..<Int(received) {
                            let datagram = UnsafeRawBufferPointer(rebasing: raw[(index * sliceBytes)..<(index * sliceBytes + lengths[index])])
                            bytes += datagram.count
                            if overloaded { continue }
                            if truncated[index] != 0 {
                                outcome.lines += 1
                                outcome.rejected += 1
                                ingest.processor.reject(datagram, reason: .datagramTruncated,
                                                        detail: "datagram larger than \(sliceBytes) bytes was cut by the kernel",
                                                        receiveTime: receiveTime, project: project, source: source,
                                                        into: &rejects, counters: counters)
                                continue
                            }
                            process(datagram, receiveTime: receiveTime, project: project, events: &events,
                                    rejects: &rejects, outcome: &outcome)
                        }
                    }
                }
                counters.linesReceived.add(outcome.lines, ordering: .relaxed)
                counters.eventsAccepted.add(outcome.accepted, ordering: .relaxed)
                counters.emptyLines.add(outcome.empty, ordering: .relaxed)
                if !events.isEmpty {
                    ingest.store.events.append(events, completion: nil)
                    events.removeAll()
                }
                if !rejects.isEmpty {
                    ingest.store.deadLetters.append(rejects, completion: nil)
                    rejects.removeAll()
                }
                if Int(received) < count { break }
            }
        }
    }

    /// Splits a datagram into lines; a trailing newline does not make an extra empty line.
    private func process(_ datagram: UnsafeRawBufferPointer, receiveTime: Int64, project: UnsafeRawBufferPointer,
                         events: inout RecordBatch, rejects: inout RecordBatch, outcome: inout LineProcessor.Outcome) {
        var start = 0
        while start < datagram.count {
            let rest = UnsafeRawBufferPointer(rebasing: datagram[start...])
            let end = LineFramer.indexOfNewline(rest) ?? rest.count
            ingest.processor.process(UnsafeRawBufferPointer(rebasing: rest[..<end]), receiveTime: receiveTime,
                                     project: project, source: source, events: &events, rejects: &rejects,
                                     counters: ingest.counters, outcome: &outcome)
            start += end + 1
        }
        if datagram.isEmpty {
            outcome.lines += 1
            outcome.empty += 1
        }
    }
}
