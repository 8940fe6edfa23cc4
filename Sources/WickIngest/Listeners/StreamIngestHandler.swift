import Logging
import NIOCore
import Synchronization
import WickJSON
import WickModel
import WickStore

/// One Unix stream connection. It only frames bytes into lines and hands them to the
/// `LineProcessor`; per read cycle the accepted events go to the store as one batch. It stops
/// reading while the store is behind, and sends acks when the client asked for them.
final class StreamIngestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let ingest: IngestContext
    private let project: [UInt8]
    private let drain: ConnectionRegistry
    private var framer: LineFramer
    private var events = RecordBatch()
    private var rejects = RecordBatch()
    private var outcome = LineProcessor.Outcome()
    private var acks = AckTracker()
    private var wantsAcks = false
    private var firstLine = true
    private var inputClosed = false
    private var draining = false
    private var paused = false
    private var failed = false
    private var context: ChannelHandlerContext?

    init(ingest: IngestContext, project: [UInt8], registry: ConnectionRegistry) {
        self.ingest = ingest
        self.project = project
        self.drain = registry
        framer = LineFramer(maxLineBytes: ingest.maxLineBytes)
        events = RecordBatch(reservingCapacity: 64 * 1024)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        ingest.counters.connectionsAccepted.add(1, ordering: .relaxed)
        ingest.counters.connectionsOpen.add(1, ordering: .relaxed)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        drain.add(context.channel) { loop.execute { loopBound.value.startDraining() } }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The client closed the connection: a last line without a newline still counts.
        framer.finish { process($0) }
        flush(context: context, final: true)
        ingest.counters.connectionsOpen.add(-1, ordering: .relaxed)
        drain.remove(context.channel)
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !draining, !failed else { return }
        let buffer = unwrapInboundIn(data)
        ingest.counters.bytesReceived.add(buffer.readableBytes, ordering: .relaxed)
        // Room for this read's lines up front: growing the batch line by line would copy it each time
        // its capacity doubles.
        events.reserveCapacity(events.byteCount + buffer.readableBytes + buffer.readableBytes / 8 + 4096)
        receiveTime = ReceiveClock.system.microseconds()
        buffer.withUnsafeReadableBytes { bytes in
            framer.feed(bytes) { process($0) }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context: context, final: false)
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // Half-closed: the client has sent everything and waits for its acks.
            inputClosed = true
            framer.finish { process($0) }
            flush(context: context, final: true)
            closeIfDone()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        ingest.logger.debug("ingest.connection-error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: - Lines

    private var receiveTime: Int64 = 0

    private func process(_ event: LineFramer.Event) {
        switch event {
        case .line(let line):
            if firstLine {
                firstLine = false
                if let acksRequested = ControlLine.parse(line) {
                    wantsAcks = acksRequested
                    return
                }
            }
            project.withUnsafeBytes { project in
                ingest.processor.process(line, receiveTime: receiveTime, project: project, source: .unix, events: &events,
                                         rejects: &rejects, counters: ingest.counters, outcome: &outcome)
            }
        case .tooLong(let prefix, let length):
            firstLine = false
            outcome.lines += 1
            outcome.rejected += 1
            // The full length is known only when the whole line arrived in one read.
            let detail = "line longer than \(ingest.maxLineBytes) bytes" + (length.map { " (\($0) bytes)" } ?? "")
            project.withUnsafeBytes { project in
                ingest.processor.reject(prefix, reason: .lineTooLong, detail: detail, receiveTime: receiveTime,
                                        project: project, source: .unix, into: &rejects, counters: ingest.counters,
                                        originalLength: length ?? prefix.count + 1)
            }
        }
    }

    /// Hands what the last reads produced to the store, and accounts for it in the acks.
    private func flush(context: ChannelHandlerContext, final: Bool) {
        let chunk = outcome
        outcome = LineProcessor.Outcome()
        if chunk.lines > 0 {
            ingest.counters.linesReceived.add(chunk.lines, ordering: .relaxed)
            ingest.counters.eventsAccepted.add(chunk.accepted, ordering: .relaxed)
            ingest.counters.emptyLines.add(chunk.empty, ordering: .relaxed)
        }
        if !rejects.isEmpty {
            ingest.store.deadLetters.append(rejects, completion: nil)
            rejects.removeAll()
        }
        guard chunk.lines > 0 else { return }
        if events.isEmpty {
            if wantsAcks, let ack = acks.add(lines: chunk.lines, rejected: chunk.rejected, waitsForCommit: false).1 {
                send(ack, context: context)
            }
            return
        }
        let batch = events
        events.removeAll()
        let completion: SegmentLog.Completion?
        if wantsAcks {
            let id = acks.add(lines: chunk.lines, rejected: chunk.rejected, waitsForCommit: true).0
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let loop = context.eventLoop
            completion = { result in
                loop.execute { loopBound.value.committed(id, result) }
            }
        } else {
            completion = nil
        }
        let result = ingest.store.events.append(batch, completion: completion)
        if result.overloaded && !final && !paused {
            pause(context: context)
        }
    }

    private func committed(_ id: UInt64, _ result: Result<Range<UInt64>, StorageError>) {
        guard let context else { return }
        switch result {
        case .success:
            if let ack = acks.complete(id) { send(ack, context: context) }
            closeIfDone()
        case .failure(let error):
            // Nothing after this can be acknowledged in order: tell the client and close; it resends
            // what was not acknowledged.
            failed = true
            let message = "{\"error\":\"storage failed: \(error.code)\",\"ack\":\(acks.acked.lines),\"rejected\":\(acks.acked.rejected)}\n"
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: message)), promise: nil)
            context.close(promise: nil)
        }
    }

    private func send(_ ack: AckTracker.Ack, context: ChannelHandlerContext) {
        let line = "{\"ack\":\(ack.lines),\"rejected\":\(ack.rejected)}\n"
        ingest.counters.acksSent.add(1, ordering: .relaxed)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: line)), promise: nil)
    }

    // MARK: - Back-pressure and shutdown

    private func pause(context: ChannelHandlerContext) {
        paused = true
        ingest.counters.backPressurePauses.add(1, ordering: .relaxed)
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        ingest.store.events.whenDrained {
            loop.execute { loopBound.value.resume() }
        }
    }

    private func resume() {
        guard paused, let context else { return }
        paused = false
        guard !draining else { return }
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        context.read()
    }

    /// Server shutdown: stop reading, keep what was read (a partial last line is dropped: the client
    /// never finished it), close once every appended chunk is durable and acknowledged.
    private func startDraining() {
        guard let context, !draining else { return }
        draining = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        framer.reset()
        flush(context: context, final: true)
        closeIfDone()
    }

    private func closeIfDone() {
        guard let context, draining || inputClosed else { return }
        if !wantsAcks || acks.outstanding == 0 {
            context.close(promise: nil)
        }
    }
}

/// The line a client may send first to ask for acks: `{"wick":{"ack":true}}`.
enum ControlLine {
    /// nil when `line` is not a control line; otherwise whether acks were asked for.
    static func parse(_ line: UnsafeRawBufferPointer) -> Bool? {
        var start = 0
        while start < line.count, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        let prefix = Array("{\"wick\"".utf8)
        guard line.count - start >= prefix.count,
              UnsafeRawBufferPointer(rebasing: line[start..<start + prefix.count]).elementsEqual(prefix),
              let value = try? JSONValue.parse(line), let wick = value["wick"]
        else { return nil }
        return wick["ack"]?.boolValue ?? false
    }
}
