public import Logging
public import ServiceLifecycle
import Synchronization
import WickJSON
public import WickModel
public import WickStore

/// Tails the event log through its own durable cursor, keeps open traces in memory, and once a trace
/// has been idle for the settle timeout (receive time) folds it and writes its summary, in the same
/// transaction as the cursor. Late events reopen a settled trace and fold it again from all its
/// events. A restart resumes from the cursor and ends with the same summaries.
///
/// The loop runs on a thread of its own: it decodes, folds and commits LMDB transactions.
public final class Assembler: Service, Sendable {
    public struct Configuration: Sendable {
        /// A trace settles once this long without a new event (receive time).
        public var settleMilliseconds: Int64 = 5000
        /// Bytes of events held for open traces; beyond it the traces idle longest are spilled.
        public var maxOpenBytes: Int = 256 << 20
        /// Records read per turn of the loop.
        public var batchRecords: Int = 8192
        /// How often an idle loop looks for new durable records.
        public var pollMilliseconds: Int64 = 5
        /// Entries kept in the settled feed `wick tail --traces` follows.
        public var settledFeedLength: UInt64 = 100_000
        /// Traces settled per turn of the loop at most (the rest wait for the next turn): small,
        /// so that the loop comes back to reading soon.
        public var settleBatch: Int = 64
        /// Batches of `batchRecords` read per turn at most.
        public var readBatchesPerTurn: Int = 8
        /// How often settled summaries and the cursor are committed (one LMDB transaction each).
        public var commitMilliseconds: Int64 = 100
        public var clock: ReceiveClock = .system

        public init() {}
    }

    public let statistics = AssemblerStatistics()
    private let store: DataStore
    private let configuration: Configuration
    private let logger: Logger
    private let thread = Mutex<WorkerThread?>(nil)
    private let stopping = Atomic<Bool>(false)
    private let priceBook: Mutex<PriceBook>
    private let configs: Mutex<ScoreConfigs>

    public init(store: DataStore, configuration: Configuration = Configuration(), prices: PriceBook,
                scoreConfigs: ScoreConfigs = .none, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        priceBook = Mutex(prices)
        configs = Mutex(scoreConfigs)
    }

    /// The score configs scores are checked against as they settle (reloaded like the prices).
    public var scoreConfigs: ScoreConfigs {
        get { configs.withLock { $0 } }
        set { configs.withLock { $0 = newValue } }
    }

    /// The prices traces settle with; a reload replaces them (traces already settled keep theirs
    /// until they are folded again).
    public var prices: PriceBook {
        get { priceBook.withLock { $0 } }
        set { priceBook.withLock { $0 = newValue } }
    }

    public func run() async throws {
        start()
        try? await gracefulShutdown()
        stop()
    }

    /// Starts the loop (tests drive the assembler without a service group).
    public func start() {
        let worker = WorkerThread(name: "wick-assembler") { [self] in loop() }
        thread.withLock { $0 = worker }
    }

    /// Stops the loop after its current turn; what it settled is committed.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        let worker: WorkerThread? = thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
        worker?.join()
    }

    // MARK: - The loop

    private func loop() {
        var state = LoopState()
        do {
            state.position = try store.cursor(TraceDocuments.cursor) ?? 0
            state.settleCounter = try store.document(namespace: TraceDocuments.state, key: Array("settle-counter".utf8))
                .flatMap { UInt64(String(decoding: $0, as: UTF8.self)) } ?? 0
        } catch {
            logger.error("assembler.start-failed", metadata: ["error": "\(error)"])
            statistics.errors.add(1, ordering: .relaxed)
        }
        let reader = store.events.reader()
        // Spilled traces read their events back through this, oldest first: few frames, each
        // decompressed about once more.
        state.frames = FrameCache(reader: store.events.reader(), capacity: 32)
        var committedCursor = state.position
        var lastCommit: UInt64 = 0
        var lastRetiredCheck: UInt64 = 0
        while !stopping.load(ordering: .relaxed) {
            do {
                // Read what is durable first (a few batches at most), so that settling, which costs
                // far more per event, never holds reading back for long: the read lag stays a turn.
                let durable = store.events.durableSequence
                var progressed = false
                var batches = 0
                while state.position < durable && batches < configuration.readBatchesPerTurn {
                    try read(reader, until: durable, state: &state)
                    progressed = true
                    batches += 1
                }
                let caughtUp = state.position >= store.events.durableSequence
                // While replaying a backlog, idleness is judged on the log's own time, so that a trace
                // half read does not settle early.
                let now = caughtUp ? configuration.clock.microseconds() : min(configuration.clock.microseconds(), state.streamTime)
                // Writes a failed commit left stay pending and go with the next attempt.
                state.pendingWrites += try settle(before: now - configuration.settleMilliseconds * 1000, state: &state)
                let spilled = state.open.spill(under: configuration.maxOpenBytes)
                if spilled > 0 { statistics.tracesSpilled.add(spilled, ordering: .relaxed) }
                let cursor = state.open.oldestNeededSequence().map { min($0, state.position) } ?? state.position
                // One LMDB transaction (and sync) per commit interval, not per turn.
                let commitDue = SegmentLog.monotonicNow() &- lastCommit >= UInt64(configuration.commitMilliseconds) * 1_000_000
                if (!state.pendingWrites.isEmpty || cursor != committedCursor) && (commitDue || stopping.load(ordering: .relaxed)) {
                    try commit(cursor: cursor, state: &state)
                    committedCursor = cursor
                    lastCommit = SegmentLog.monotonicNow()
                }
                // Readers of segments compaction or retention removed since would hold their space.
                if SegmentLog.monotonicNow() &- lastRetiredCheck >= 1_000_000_000 {
                    store.closeRetired(state.segments)
                    reader.closeRetired()
                    state.frames?.closeRetired()
                    lastRetiredCheck = SegmentLog.monotonicNow()
                }
                statistics.openTraces.store(state.open.count, ordering: .relaxed)
                statistics.openBytes.store(state.open.bytes, ordering: .relaxed)
                statistics.position.store(state.position, ordering: .relaxed)
                if !progressed && !state.moreDue {
                    sleepMilliseconds(configuration.pollMilliseconds)
                }
            } catch {
                statistics.errors.add(1, ordering: .relaxed)
                logger.error("assembler.turn-failed", metadata: ["error": "\(error)"])
                sleepMilliseconds(max(100, configuration.pollMilliseconds))
            }
        }
        // What settled since the last commit goes in now, with the cursor.
        let cursor = state.open.oldestNeededSequence().map { min($0, state.position) } ?? state.position
        if !state.pendingWrites.isEmpty || cursor != committedCursor {
            do {
                try commit(cursor: cursor, state: &state)
            } catch {
                statistics.errors.add(1, ordering: .relaxed)
                logger.error("assembler.final-commit-failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Writes what settled, with the cursor, in one transaction.
    private func commit(cursor: UInt64, state: inout LoopState) throws {
        var writes = state.pendingWrites
        if !writes.isEmpty {
            writes.append(DocumentWrite(namespace: TraceDocuments.state, key: Array("settle-counter".utf8),
                                        value: Array(String(state.settleCounter).utf8)))
        }
        try store.commitDocuments(writes, cursor: (TraceDocuments.cursor, cursor))
        state.pendingWrites = []
        state.settledSinceCommit.removeAll(keepingCapacity: true)
        // Counted once readers can see them.
        statistics.tracesSettled.add(state.settledUncommitted, ordering: .relaxed)
        state.settledUncommitted = 0
    }

    private struct LoopState {
        var position: UInt64 = 0
        var open = OpenTraces()
        /// Receive time of the newest record read.
        var streamTime: Int64 = 0
        var settleCounter: UInt64 = 0
        var settledUncommitted = 0
        var pendingWrites: [DocumentWrite] = []
        /// Keys of the traces settled since the last commit (their summaries are not in the store yet).
        var settledSinceCommit = Set<[UInt8]>()
        var frames: FrameCache?
        /// Segments kept open for reopened traces' lookups (their last frames stay decompressed).
        let segments = OpenSegments()
        /// The last turn settled as many traces as it may: more may be due now.
        var moreDue = false
    }

    /// Reads the next batch of durable records into the open traces.
    private func read(_ reader: LogReader, until durable: UInt64, state: inout LoopState) throws {
        let traceSpace = KeySpace(rawValue: IndexSpaces.traceID)
        var first = true
        var reopened: [OpenTraces.Trace] = []
        // Traces reopened before a failure get their earlier events all the same: the batch is read
        // again, and finds them open.
        defer { if !reopened.isEmpty { loadEarlier(reopened, state: &state) } }
        let next = try reader.read(from: state.position, until: durable, maxRecords: configuration.batchRecords) { sequence, record in
            if first {
                first = false
                if let durableAt = store.events.durableTime(of: sequence) {
                    let lag = Double(SegmentLog.monotonicNow() &- durableAt) / 1_000_000
                    statistics.lag.record(milliseconds: max(0, lag))
                }
            }
            guard record.kind == .rawEvent else { return }
            statistics.eventsRead.add(1, ordering: .relaxed)
            state.streamTime = max(state.streamTime, record.receiveTime)
            var traceID: [UInt8]? = nil
            record.forEachKey { space, key in
                if space == traceSpace && traceID == nil { traceID = Array(key) }
            }
            guard let traceID else {
                // sdk-log, or a score that names a session or dataset run and no trace.
                if record.payload.count > 0, isSDKLog(record.payload) {
                    statistics.sdkLogs.add(1, ordering: .relaxed)
                } else {
                    statistics.eventsWithoutTrace.add(1, ordering: .relaxed)
                }
                return
            }
            let project = record.projectString
            let traceString = String(decoding: traceID, as: UTF8.self)
            let key = TraceDocuments.key(project: project, traceID: traceString)
            let trace = try state.open.trace(key) ?? open(key, project: project, traceID: traceString, firstSequence: sequence,
                                                          reopened: &reopened, state: &state)
            state.open.add(trace, sequence: sequence, receiveTime: record.receiveTime, payload: record.payload)
        }
        state.position = next
    }

    /// Opens a trace. One that settled before goes in `reopened`, to get every event the store
    /// holds for it once the batch is read.
    private func open(_ key: [UInt8], project: String, traceID: String, firstSequence: UInt64,
                      reopened: inout [OpenTraces.Trace], state: inout LoopState) throws -> OpenTraces.Trace {
        // Settled before: committed, or settled and waiting for the next commit.
        let settledBefore = try state.settledSinceCommit.contains(key)
            || store.document(namespace: TraceDocuments.summaries, key: key) != nil
        let trace = state.open.open(key, project: project, traceID: traceID, firstSequence: firstSequence)
        if settledBefore {
            statistics.tracesReopened.add(1, ordering: .relaxed)
            reopened.append(trace)
        }
        return trace
    }

    /// Gives the traces a batch reopened their earlier events, those with a compacted document in
    /// the order of the documents: late scores for many traces (an evaluation job's) then read
    /// each frame of a compacted segment about once per batch, not once per trace. A trace whose
    /// events cannot be read now reads all of them back by key when it settles, as a spilled one.
    private func loadEarlier(_ traces: [OpenTraces.Trace], state: inout LoopState) {
        let framesBefore = state.segments.sealedFramesDecompressed
        defer { statistics.reopenFramesRead.add(state.segments.sealedFramesDecompressed - framesBefore, ordering: .relaxed) }
        let keys = traces.map { TraceDocuments.traceIndexKey($0.traceID) }
        let documents = (try? store.compactedLocations(keys)) ?? Array(repeating: [], count: traces.count)
        let order = traces.indices.sorted { a, b in
            switch (documents[a].min(), documents[b].min()) {
            case let (x?, y?): x < y || (x == y && a < b)
            case (_?, nil): true
            case (nil, _?): false
            case (nil, nil): a < b
            }
        }
        for position in order {
            let trace = traces[position]
            do {
                let earlier = try storedRecords(project: trace.project, traceID: trace.traceID, fromStream: nil, through: state.segments)
                state.open.addEarlier(trace, earlier)
            } catch {
                statistics.errors.add(1, ordering: .relaxed)
                logger.error("assembler.reopen-read-failed", metadata: ["trace": "\(trace.traceID)", "error": "\(error)"])
                state.open.readBackByKey(trace)
            }
        }
    }

    /// Every durable event of a trace, from the store.
    private func storedRecords(project: String, traceID: String, fromStream: ClosedRange<UInt64>?,
                               through segments: OpenSegments) throws -> [OpenTraces.Pending] {
        try store.records(for: TraceDocuments.traceIndexKey(traceID), through: segments)
            .filter { ($0.kind == .rawEvent || $0.kind == .compactedDocument) && $0.project == project }
            .map { OpenTraces.Pending(sequence: $0.sequence, receiveTime: $0.receiveTime, payload: $0.payload,
                                      fromStream: fromStream?.contains($0.sequence) ?? false, kind: $0.kind) }
    }

    // MARK: - Settling

    private func settle(before cutoff: Int64, state: inout LoopState) throws -> [DocumentWrite] {
        var writes: [DocumentWrite] = []
        var rejects = RecordBatch()
        // A bounded number per turn, so that reading the log never waits long behind settling.
        let due = state.open.takeIdle(before: cutoff, limit: configuration.settleBatch)
        state.moreDue = due.count == configuration.settleBatch
        let prices = self.prices
        for trace in due {
            let key = trace.key
            let records: [OpenTraces.Pending]
            do {
                records = trace.spilled ? try readBack(trace, through: state.frames, segments: state.segments) : trace.records
            } catch {
                statistics.errors.add(1, ordering: .relaxed)
                logger.error("assembler.read-back-failed", metadata: ["trace": "\(trace.traceID)", "error": "\(error)"])
                state.open.putBack(trace)
                continue
            }
            let sorted = records.sorted { $0.sequence < $1.sequence }
            // Only the summary is stored: the decode leaves out what no summary reads.
            let loaded = TraceLoader.assemble(trace.traceID, project: trace.project, records: sorted.map {
                StoredRecord(sequence: $0.sequence, kind: $0.kind, receiveTime: $0.receiveTime, project: trace.project,
                             keys: [], payload: $0.payload)
            }, scope: .summary(metadata: prices.readsMetadata), prices: prices, scoreConfigs: scoreConfigs)
            // Late rejects are reported once: for the events this open trace read from the log.
            let fresh = Set(sorted.filter(\.fromStream).map(\.sequence))
            for (sequence, reject) in loaded.lateRejects where fresh.contains(sequence) {
                statistics.lateReject(reject.reason.rawValue)
                if let record = sorted.first(where: { $0.sequence == sequence }) {
                    record.payload.withUnsafeBytes { payload in
                        Array(trace.project.utf8).withUnsafeBytes { project in
                            DeadLetter.append(payload, reason: reject.reason.rawValue, detail: reject.detail, source: "late",
                                              receiveTime: record.receiveTime, project: project,
                                              originalLength: payload.count, into: &rejects)
                        }
                    }
                }
            }
            let summary = loaded.summary
            writes.append(DocumentWrite(namespace: TraceDocuments.summaries, key: key,
                                        value: summary.serializedJSON(),
                                        orderKey: TraceDocuments.orderKey(start: summary.start.microsecondsSinceEpoch)))
            state.settleCounter += 1
            state.settledSinceCommit.insert(key)
            // An empty order key lists the entry in the feed's ordered view, by its counter.
            writes.append(DocumentWrite(namespace: TraceDocuments.settled, key: bigEndian(state.settleCounter), value: key,
                                        orderKey: []))
            if state.settleCounter > configuration.settledFeedLength {
                writes.append(DocumentWrite(namespace: TraceDocuments.settled,
                                            key: bigEndian(state.settleCounter - configuration.settledFeedLength), value: nil))
            }
            state.settledUncommitted += 1
        }
        if !rejects.isEmpty { store.deadLetters.append(rejects, completion: nil) }
        return writes
    }

    /// A spilled trace's events, read back from the log by sequence number.
    private func readBack(_ trace: OpenTraces.Trace, through frames: FrameCache?, segments: OpenSegments) throws -> [OpenTraces.Pending] {
        guard let frames, !trace.readsBackByKey else {
            return try storedRecords(project: trace.project, traceID: trace.traceID,
                                     fromStream: trace.firstStreamSequence...trace.lastStreamSequence, through: segments)
        }
        let stream = trace.firstStreamSequence...trace.lastStreamSequence
        return try frames.records(trace.sequences).map {
            OpenTraces.Pending(sequence: $0.sequence, receiveTime: $0.receiveTime, payload: $0.payload,
                               fromStream: stream.contains($0.sequence))
        }
    }

    private func isSDKLog(_ payload: UnsafeRawBufferPointer) -> Bool {
        // The hot path validated the envelope; only sdk-log lines carry no trace key among the
        // types the assembler otherwise folds into traces, besides session scores.
        guard let value = try? JSONValue.parse(payload) else { return false }
        return value["type"]?.stringValue == "sdk-log"
    }
}

func bigEndian(_ value: UInt64) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

#if canImport(Glibc)
import Glibc
#endif

func sleepMilliseconds(_ milliseconds: Int64) {
    usleep(UInt32(max(0, min(milliseconds, 1000)) * 1000))
}
