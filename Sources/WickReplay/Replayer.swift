public import Logging
public import ServiceLifecycle
public import Synchronization
import WickIngest
import WickJSON
public import WickStore

/// Replays the event log into one sink: the raw events as they came, original ids kept, in
/// batches, from a durable cursor of its own (`replay.<name>`) that moves only over batches the
/// sink delivered, in log order. Failures back off exponentially with jitter and try again, never
/// giving up on durable data (only the disk budget can drop it, and counts it). Events the sink
/// refuses for good go to the local dead-letter log with its reason. At least once: a receiver
/// deduplicates by event id (a Wick's folds do); the file kind is exactly once (`FileSink`).
///
/// What a sink kind does with a batch is its `ReplayTransport`; everything else is here, once.
public final class Replayer: Service, Sendable {
    /// One sink as configured: its name, its kind with the kind's own settings, and the settings
    /// every kind shares.
    public struct Sink: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// Langfuse's batch ingestion API: another Wick, or a Langfuse server.
            case langfuse(LangfuseSink.Configuration)
            /// NDJSON appended to a file.
            case file(FileSink.Configuration)
            /// OTLP/HTTP protobuf: a Langfuse server, a Wick, or any OpenTelemetry backend.
            case otlp(OTLPSink.Configuration)

            /// The kind's name in the configuration (`sinks.<name>.kind`).
            public var name: String {
                switch self {
                case .langfuse: "langfuse"
                case .file: "file"
                case .otlp: "otlp"
                }
            }
        }

        public var name: String
        public var kind: Kind
        public var batchEvents = 5000
        /// Langfuse refuses batches over 4.5 MB; stay well under.
        public var batchBytes = 3_500_000
        /// Batches in flight at once: each waits for the receiver's durability, so throughput comes
        /// from several (the cursor still moves only over a contiguous run of delivered batches).
        /// A kind may take fewer (`ReplayTransport.maxConcurrency`).
        public var concurrency = 4
        public var backoffInitialMilliseconds: Int64 = 5000
        public var backoffMaxMilliseconds: Int64 = 30_000

        public init(name: String, kind: Kind) {
            self.name = name
            self.kind = kind
            if case .file = kind { concurrency = 1 }
        }

        /// A Langfuse sink, as `replay.*` and `wick replay` describe one.
        public init(name: String = "central", url: String, publicKey: String, secretKey: String) {
            self.init(name: name, kind: .langfuse(LangfuseSink.Configuration(url: url, publicKey: publicKey, secretKey: secretKey)))
        }

        /// The store cursor that records how far this sink got.
        public var cursor: String { Self.cursor(name) }

        public static func cursor(_ name: String) -> String { "replay." + name }

        /// The transport of this sink's kind. The `otlp` kind sends whole traces and reads them from
        /// `traces` (nil: not available here, the kind refuses to start).
        public func transport(directory: DataDirectory, logger: Logger, traces: (any ReplayTraceSource)? = nil,
                              version: String = "") -> any ReplayTransport {
            switch kind {
            case .langfuse(let configuration): return LangfuseSink(configuration)
            case .file(var configuration):
                // Relative to the data directory, not to wherever the daemon was started from.
                if !configuration.path.hasPrefix("/") { configuration.path = directory.root + "/" + configuration.path }
                return FileSink(configuration, statePath: FileSink.statePath(directory: directory, sink: name), logger: logger)
            case .otlp(let configuration):
                return OTLPSink(configuration, traces: traces, version: version, logger: logger)
            }
        }
    }

    public final class Statistics: Sendable {
        /// Events delivered (or refused for good).
        public let events = Atomic<Int>(0)
        public let batches = Atomic<Int>(0)
        /// NDJSON bytes of the events delivered, and what they took on the wire or on disk.
        public let rawBytes = Atomic<Int>(0)
        public let wireBytes = Atomic<Int>(0)
        public let retries = Atomic<Int>(0)
        public let deadLetters = Atomic<Int>(0)
        /// Events of compacted traces sent because their raw segments were gone (part of `events`).
        public let compactedEvents = Atomic<Int>(0)
        /// Where the cursor is (the next sequence number to deliver).
        public let position = Atomic<UInt64>(0)
    }

    public let sink: Sink
    public let statistics = Statistics()
    private let transport: any ReplayTransport
    private let store: DataStore
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    /// Set once the transport is prepared and the cursor is known.
    private let started = Atomic<Bool>(false)

    public convenience init(store: DataStore, sink: Sink, logger: Logger, traces: (any ReplayTraceSource)? = nil, version: String = "") {
        self.init(store: store, sink: sink,
                  transport: sink.transport(directory: store.directory, logger: logger, traces: traces, version: version), logger: logger)
    }

    /// A replayer over any transport (a kind not in `Sink.Kind`, or a test's).
    public init(store: DataStore, sink: Sink, transport: any ReplayTransport, logger: Logger) {
        self.store = store
        self.sink = sink
        self.transport = transport
        var logger = logger
        logger[metadataKey: "sink"] = "\(sink.name)"
        self.logger = logger
    }

    public func run() async throws {
        let thread = start()
        try? await gracefulShutdown()
        stopping.store(true, ordering: .relaxed)
        thread.join()
    }

    /// Replays until the cursor reaches `end` (a durable position), then returns: `wick replay` of
    /// a copied data directory.
    public func runUntil(_ end: UInt64) async throws {
        let thread = start()
        while !(started.load(ordering: .acquiring) && statistics.position.load(ordering: .relaxed) >= end) {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        stopping.store(true, ordering: .relaxed)
        thread.join()
    }

    /// The first replay thread: prepares the transport (retrying), then runs the others and itself.
    private func start() -> WorkerThread {
        WorkerThread(name: "wick-replay") { [self] in
            guard let start = prepare() else { return }
            statistics.position.store(start, ordering: .relaxed)
            started.store(true, ordering: .releasing)
            let shared = Shared(reader: store.events.reader(), start: start)
            let count = max(1, min(sink.concurrency, transport.maxConcurrency))
            let others = (1..<count).map { _ in WorkerThread(name: "wick-replay") { [self] in work(shared) } }
            work(shared)
            for other in others { other.join() }
            transport.close()
        }
    }

    /// Where to start: the transport's answer, recorded as the cursor (so that compaction and
    /// retention keep raw segments from there on). Nil when stopped first.
    private func prepare() -> UInt64? {
        var failures = 0
        while !stopping.load(ordering: .relaxed) {
            do {
                let stored = try store.cursor(sink.cursor)
                // Never past the durable log (the file kind's state can be, after the log lost a tail).
                var start = min(try transport.prepare(storedCursor: stored), store.events.durableSequence)
                if stored != start { try store.setCursor(sink.cursor, to: start) }
                start = try sendCompacted(from: start)
                logger.info("replay.started", metadata: ["kind": "\(sink.kind.name)", "cursor": "\(start)"])
                return start
            } catch {
                failures += 1
                let delay = backoff(failures)
                logger.error("replay.prepare-failed", metadata: ["error": "\(error)", "in.ms": "\(delay)"])
                pause(milliseconds: delay)
            }
        }
        return nil
    }

    /// A cursor short of the range compaction replaced, where raw segments are gone (a sink added
    /// after they were released, a copied directory): that range exists only as compacted traces,
    /// so they go first, as `wick export` writes them — one create event per entity, ids derived from
    /// their content, so a re-send folds once at a Wick and upserts the same at Langfuse — and the
    /// cursor moves past the range. A failure throws, and the whole phase is tried again (at least
    /// once; for the file kind too, which records no position inside this phase). Returns where
    /// the raw replay starts.
    private func sendCompacted(from start: UInt64) throws -> UInt64 {
        // Segments only: this process holds the store's LMDB environment already.
        let reader = try StoreReader(store.directory, openingIndex: false)
        let compactedBelow = try reader.compactedSegments().map(\.covered.upperBound).max() ?? 0
        let firstRaw = try reader.segments().first?.firstSequence ?? store.events.durableSequence
        guard start < compactedBelow, firstRaw > start else { return start }
        logger.info("replay.compacted", metadata: ["from": "\(start)", "to": "\(compactedBelow)"])
        // An empty range: the batches stand for no position of the raw log.
        var batch = ReplayBatch(range: start..<start)
        func flush() throws {
            guard !batch.isEmpty else { return }
            switch transport.send(batch) {
            case .delivered(let wireBytes, let refusals):
                for refusal in refusals { deadLetter(batch[refusal.index], refusal.reason) }
                statistics.compactedEvents.add(batch.count, ordering: .relaxed)
                statistics.events.add(batch.count, ordering: .relaxed)
                statistics.batches.add(1, ordering: .relaxed)
                statistics.rawBytes.add(batch.payloadBytes, ordering: .relaxed)
                statistics.wireBytes.add(wireBytes, ordering: .relaxed)
                batch = ReplayBatch(range: start..<start)
            case .retry(let reason):
                statistics.retries.add(1, ordering: .relaxed)
                throw CompactedPhaseFailure(reason: reason)
            }
        }
        // Streamed, a batch at a time: a directory's compacted traces need not fit in memory.
        try StoredEvents.read(reader, raw: false) { project, event in
            guard !stopping.load(ordering: .relaxed) else { throw CompactedPhaseFailure(reason: "stopping") }
            batch.append(sequence: start, receiveTime: 0, project: String(decoding: project, as: UTF8.self), payload: event)
            if batch.count >= sink.batchEvents || batch.payloadBytes >= sink.batchBytes { try flush() }
        }
        try flush()
        try store.setCursor(sink.cursor, to: compactedBelow)
        return compactedBelow
    }

    struct CompactedPhaseFailure: Error, CustomStringConvertible {
        var reason: String
        var description: String { "sending compacted traces: \(reason)" }
    }

    /// What the workers share: the log reader (one at a time), the batches in flight, and the
    /// cursor, which moves over delivered batches in log order only.
    private final class Shared: @unchecked Sendable {
        // @unchecked: every mutable field is only touched while `lock` is held.
        private let lock = Mutex<Void>(())
        private let reader: LogReader
        private var nextRead: UInt64
        private var inFlight: [(start: UInt64, end: UInt64, done: Bool)] = []
        private var committed: UInt64
        private var written: UInt64

        init(reader: LogReader, start: UInt64) {
            self.reader = reader
            nextRead = start
            committed = start
            written = start
        }

        /// The next batch to send; nil when nothing durable is unread.
        func take(until durable: UInt64, events: Int, bytes: Int) throws -> ReplayBatch? {
            try lock.withLock { _ in
                guard nextRead < durable else {
                    // Idle: the segment read last may be gone (compacted, or retention's).
                    reader.closeRetired()
                    return nil
                }
                var batch = ReplayBatch()
                let start = nextRead
                var end = start
                let next = try reader.read(from: start, until: durable, maxRecords: events) { sequence, record in
                    guard batch.payloadBytes < bytes || batch.isEmpty else { return }
                    if record.kind == .rawEvent {
                        batch.append(sequence: sequence, receiveTime: record.receiveTime, project: record.project, payload: record.payload)
                    }
                    end = sequence + 1
                }
                // Records past the byte limit were read but not taken: the next batch starts at them.
                if batch.payloadBytes < bytes { end = next }
                batch.range = start..<end
                nextRead = end
                inFlight.append((start, end, false))
                return batch
            }
        }

        /// Marks a batch delivered and, when that moves the cursor, records it with `save` (in log
        /// order: one save at a time, never backwards). Returns the cursor saved, if any.
        func done(_ start: UInt64, save: (UInt64) throws -> Void) rethrows -> UInt64? {
            try lock.withLock { _ in
                if let index = inFlight.firstIndex(where: { $0.start == start }) { inFlight[index].done = true }
                while let first = inFlight.first, first.done {
                    committed = first.end
                    inFlight.removeFirst()
                }
                guard committed > written else { return nil }
                try save(committed)
                written = committed
                return committed
            }
        }
    }

    private func work(_ shared: Shared) {
        while !stopping.load(ordering: .relaxed) {
            let taken: ReplayBatch?
            do {
                taken = try shared.take(until: store.events.durableSequence, events: sink.batchEvents, bytes: sink.batchBytes)
            } catch {
                logger.error("replay.read-failed", metadata: ["error": "\(error)"])
                pause(milliseconds: 1000)
                continue
            }
            guard let batch = taken else {
                pause(milliseconds: 20)
                continue
            }
            var failures = 0
            while !stopping.load(ordering: .relaxed) {
                switch batch.isEmpty ? .delivered(wireBytes: 0) : transport.send(batch) {
                case .delivered(let wireBytes, let refused):
                    for refusal in refused where batch.indices.contains(refusal.index) {
                        deadLetter(batch[refusal.index], refusal.reason)
                    }
                    statistics.events.add(batch.count, ordering: .relaxed)
                    statistics.batches.add(batch.isEmpty ? 0 : 1, ordering: .relaxed)
                    statistics.rawBytes.add(batch.payloadBytes, ordering: .relaxed)
                    statistics.wireBytes.add(wireBytes, ordering: .relaxed)
                    do {
                        if let cursor = try shared.done(batch.range.lowerBound, save: { try store.setCursor(sink.cursor, to: $0) }) {
                            statistics.position.store(cursor, ordering: .relaxed)
                        }
                    } catch {
                        // The batch is delivered; the cursor catches up with the next one (or the
                        // batch is delivered again after a restart: at least once).
                        logger.error("replay.cursor-failed", metadata: ["error": "\(error)"])
                    }
                    failures = -1
                case .retry(let why):
                    failures += 1
                    statistics.retries.add(1, ordering: .relaxed)
                    let delay = backoff(failures)
                    if failures == 1 || failures % 10 == 0 {
                        logger.warning("replay.retrying", metadata: ["error": "\(why)", "in.ms": "\(delay)", "failures": "\(failures)"])
                    }
                    pause(milliseconds: delay)
                }
                if failures < 0 { break }
            }
        }
    }

    /// The wait after the `failures`th failure in a row: doubling from the initial backoff up to
    /// the maximum, with jitter (half to all of it), so that many edges do not retry in step.
    private func backoff(_ failures: Int) -> Int64 {
        let ceiling = min(sink.backoffMaxMilliseconds, sink.backoffInitialMilliseconds << min(failures - 1, 20))
        return Int64(Double(ceiling) * Double.random(in: 0.5...1.0))
    }

    private func deadLetter(_ event: ReplayEvent, _ reason: String) {
        var rejects = RecordBatch()
        var project = event.project
        event.payload.withUnsafeBytes { bytes in
            project.withUTF8 { project in
                DeadLetter.append(bytes, reason: "replay_rejected", detail: "\(sink.name): \(reason)", source: "replay",
                                  receiveTime: store.events.configuration.clock.microseconds(), project: UnsafeRawBufferPointer(project),
                                  originalLength: bytes.count, into: &rejects)
            }
        }
        store.deadLetters.append(rejects, completion: nil)
        statistics.deadLetters.add(1, ordering: .relaxed)
    }

    private func pause(milliseconds: Int64) {
        var left = milliseconds
        while left > 0 && !stopping.load(ordering: .relaxed) {
            let step = min(left, 50)
            usleep(UInt32(step * 1000))
            left -= step
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
