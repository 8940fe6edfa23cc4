import Logging
import NIOCore
import Synchronization
import WickModel
import WickStore

/// UDP and Unix datagram input: each datagram holds one or more NDJSON lines. Best effort by
/// design: when the store is behind, datagrams are dropped and counted, never queued without bound.
final class DatagramIngestHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let ingest: IngestContext
    private let project: [UInt8]
    private let source: IngestSource
    /// A datagram that fills its whole receive slice may have been cut by the kernel.
    private let truncationSize: Int?
    private var events = RecordBatch()
    private var rejects = RecordBatch()
    private var outcome = LineProcessor.Outcome()

    init(ingest: IngestContext, project: [UInt8], source: IngestSource, truncationSize: Int?) {
        self.ingest = ingest
        self.project = project
        self.source = source
        self.truncationSize = truncationSize
        events = RecordBatch(reservingCapacity: 256 * 1024)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let datagram = unwrapInboundIn(data).data
        let counters = ingest.counters
        counters.datagramsReceived.add(1, ordering: .relaxed)
        counters.bytesReceived.add(datagram.readableBytes, ordering: .relaxed)
        if ingest.store.events.isOverloaded {
            counters.drop("overloaded", count: 1)
            return
        }
        let receiveTime = ReceiveClock.system.microseconds()
        datagram.withUnsafeReadableBytes { bytes in
            project.withUnsafeBytes { project in
                if let truncationSize, bytes.count >= truncationSize {
                    outcome.lines += 1
                    outcome.rejected += 1
                    ingest.processor.reject(bytes, reason: .datagramTruncated,
                                            detail: "datagram of \(bytes.count) bytes filled the receive buffer and may be cut",
                                            receiveTime: receiveTime, project: project, source: source, into: &rejects,
                                            counters: counters)
                    return
                }
                var start = 0
                while start < bytes.count {
                    let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
                    let end = LineFramer.indexOfNewline(rest) ?? rest.count
                    let line = UnsafeRawBufferPointer(rebasing: rest[..<end])
                    // A trailing newline does not make an extra empty line.
                    if !(end == 0 && start + 1 >= bytes.count) {
                        ingest.processor.process(line, receiveTime: receiveTime, project: project, source: source,
                                                 events: &events, rejects: &rejects, counters: counters, outcome: &outcome)
                    }
                    start += end + 1
                }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        let counters = ingest.counters
        if outcome.lines > 0 {
            counters.linesReceived.add(outcome.lines, ordering: .relaxed)
            counters.eventsAccepted.add(outcome.accepted, ordering: .relaxed)
            counters.emptyLines.add(outcome.empty, ordering: .relaxed)
            outcome = LineProcessor.Outcome()
        }
        if !events.isEmpty {
            ingest.store.events.append(events, completion: nil)
            events.removeAll()
        }
        if !rejects.isEmpty {
            ingest.store.deadLetters.append(rejects, completion: nil)
            rejects.removeAll()
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A datagram socket error (ICMP feedback and the like) never closes the listener.
        ingest.logger.debug("ingest.datagram-error", metadata: ["error": "\(error)"])
    }
}
