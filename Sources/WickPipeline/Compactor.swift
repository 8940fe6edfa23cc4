public import ServiceLifecycle
import Synchronization
public import Logging
public import WickModel
public import WickStore

/// Rewrites settled raw segments into compacted ones (docs/architecture.md, Compaction): the
/// oldest sealed raw segments whose events the assembler has passed are read, their events grouped
/// by trace, each trace folded (with its earlier compacted document, when late events came) and
/// priced, and written as one document per trace. Events that belong to no trace (sdk-log, session
/// and dataset-run scores) and events that do not decode are carried over verbatim. The store
/// publishes the result crash-atomically and deletes the raw segments once every cursor passed them.
public final class Compactor: Sendable {
    public struct Configuration: Sendable {
        /// How often the daemon looks for segments to compact.
        public var intervalMilliseconds: Int64 = 60_000
        /// Raw bytes (uncompressed) one compacted segment replaces at most: bounds the memory one
        /// compaction holds.
        public var maxInputBytes: UInt64 = 64 << 20
        /// The cursor that must have passed a segment before it is compacted.
        public var gateCursor = TraceDocuments.cursor
        /// Whether the documents' text is word-coded in each frame where that pays (docs/format.md
        /// §3): on English prompts 8% smaller and 11% slower to compact (BENCHMARKS.md).
        public var wordCodes = true

        public init() {}
    }

    /// What one or more compactions did.
    public struct Report: Sendable, Hashable {
        public var segments = 0
        public var rawRecords: UInt64 = 0
        public var rawFileBytes: Int64 = 0
        /// Raw NDJSON bytes read (the records' payloads, uncompressed).
        public var rawPayloadBytes: UInt64 = 0
        public var documents = 0
        /// Records carried over verbatim: events of no trace, events that do not decode.
        public var carried = 0
        /// Traces whose earlier document was merged with late events.
        public var merged = 0
        /// Frames of earlier compacted segments decompressed to read those documents.
        public var mergeFramesRead = 0
        public var compactedSegments = 0
        public var compactedFileBytes: Int64 = 0
        public var superseded = 0
        public var seconds: Double = 0

        public init() {}

        mutating func add(_ other: Report) {
            segments += other.segments
            rawRecords += other.rawRecords
            rawFileBytes += other.rawFileBytes
            rawPayloadBytes += other.rawPayloadBytes
            documents += other.documents
            carried += other.carried
            merged += other.merged
            mergeFramesRead += other.mergeFramesRead
            compactedSegments += other.compactedSegments
            compactedFileBytes += other.compactedFileBytes
            superseded += other.superseded
            seconds += other.seconds
        }
    }

    /// Where a run has got to: segments and uncompressed raw bytes, done and known to be ready.
    public struct Progress: Sendable {
        public var segmentsDone: Int
        public var segmentsTotal: Int
        public var bytesDone: UInt64
        public var bytesTotal: UInt64
    }

    private let store: DataStore
    private let configuration: Configuration
    private let logger: Logger
    private let rules: Mutex<(prices: PriceBook, scoreConfigs: ScoreConfigs)>
    /// One compaction at a time (the daemon's timer, and `wick compact` through the HTTP server).
    private let running = Mutex<Void>(())
    private let stopping = Atomic<Bool>(false)
    private let runningTotals = Mutex(Report())

    public init(store: DataStore, configuration: Configuration = Configuration(), prices: PriceBook,
                scoreConfigs: ScoreConfigs = .none, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        rules = Mutex((prices, scoreConfigs))
    }

    /// Everything this compactor did since it started (for metrics).
    public var totals: Report { runningTotals.withLock { $0 } }

    public var prices: PriceBook {
        get { rules.withLock { $0.prices } }
        set { rules.withLock { $0.prices = newValue } }
    }

    public var scoreConfigs: ScoreConfigs {
        get { rules.withLock { $0.scoreConfigs } }
        set { rules.withLock { $0.scoreConfigs = newValue } }
    }

    // MARK: - Running

    /// Compacts every segment that is ready now. `step` hears each publishing step (the crash test
    /// stops the process at one).
    public func compactReady(progress: (Progress) -> Void = { _ in },
                             step: (CompactionStep) -> Void = { _ in }) throws -> Report {
        try running.withLock { _ in
            let gate = try store.cursor(configuration.gateCursor) ?? 0
            let backlog = try store.compactionBacklog(below: gate)
            var report = Report()
            var current = Progress(segmentsDone: 0, segmentsTotal: backlog.segments, bytesDone: 0, bytesTotal: backlog.bytes)
            progress(current)
            // Kept from one input to the next (a backlog is many inputs), let go when the run ends.
            var scratch = Scratch()
            while !stopping.load(ordering: .relaxed),
                  let input = try store.nextCompactionInput(below: gate, maxBytes: configuration.maxInputBytes) {
                let one = try compact(input, scratch: &scratch, step: step)
                report.add(one)
                runningTotals.withLock { $0.add(one) }
                current.segmentsDone += input.segments.count
                current.bytesDone += input.uncompressedBytes
                current.segmentsTotal = max(current.segmentsTotal, current.segmentsDone)
                current.bytesTotal = max(current.bytesTotal, current.bytesDone)
                progress(current)
            }
            return report
        }
    }

    /// The daemon's service: compacts what is ready every interval, on a thread of its own at a
    /// lower priority than ingest.
    public func run() async throws {
        let worker = WorkerThread(name: "wick-compactor", nice: 10) { [self] in loop() }
        try? await gracefulShutdown()
        stopping.store(true, ordering: .relaxed)
        worker.join()
    }

    private func loop() {
        let tick: Int64 = 50
        var waited: Int64 = 0
        while !stopping.load(ordering: .relaxed) {
            if waited >= configuration.intervalMilliseconds {
                waited = 0
                do {
                    let report = try compactReady()
                    if report.segments > 0 {
                        logger.info("compaction.done", metadata: [
                            "segments": "\(report.segments)", "documents": "\(report.documents)",
                            "raw.bytes": "\(report.rawFileBytes)", "compacted.bytes": "\(report.compactedFileBytes)",
                            "seconds": "\(report.seconds)",
                        ])
                    }
                } catch {
                    logger.error("compaction.failed", metadata: ["error": "\(error)"])
                }
            }
            usleep(UInt32(tick * 1000))
            waited += tick
        }
    }

    // MARK: - One compaction

    private struct Group {
        var project: String
        var traceID: String
        /// The project and the trace key in `Scratch.groupKeys`, back to back.
        var keyStart: Int
        var projectLength: Int
        var traceLength: Int
        /// The group's records, linked through `RawRecord.next` in arrival order.
        var first: Int
        var last: Int
        /// `tableHash` of the project, then the trace key.
        var hash: UInt64
    }

    /// What one compaction works in: the events' payloads back to back (one copy, no allocation
    /// per event), where each is, and the groups' keys. Its memory is reused by the next input, so
    /// that a backlog pays for its pages once.
    private struct Scratch {
        var arena: [UInt8] = []
        var records: [RawRecord] = []
        var groupKeys: [UInt8] = []
        var writer = CompactedTrace.DirectWriter()
        var events: [CompactedTrace.RawEvent] = []

        mutating func reset(reserving bytes: Int, records count: Int) {
            arena.removeAll(keepingCapacity: true)
            records.removeAll(keepingCapacity: true)
            // With room to spare: an input a frame larger than the last would otherwise move the
            // arena to fresh memory, whose pages fault in again (a sixth of the time spent reading).
            if arena.capacity < bytes { arena.reserveCapacity(bytes + bytes / 8) }
            if records.capacity < count { records.reserveCapacity(count + count / 8) }
            groupKeys.removeAll(keepingCapacity: true)
        }

        func matches(_ group: Group, project: UnsafeRawBufferPointer, traceKey: UnsafeRawBufferPointer) -> Bool {
            guard group.projectLength == project.count, group.traceLength == traceKey.count else { return false }
            return groupKeys.withUnsafeBytes { keys in
                let base = keys.baseAddress! + group.keyStart
                return (project.isEmpty || memcmp(base, project.baseAddress!, project.count) == 0)
                    && (traceKey.isEmpty || memcmp(base + project.count, traceKey.baseAddress!, traceKey.count) == 0)
            }
        }
    }

    /// A raw event read: where its payload sits in the compaction's arena, and its group's next record.
    private struct RawRecord {
        var offset: Int
        var length: Int
        var sequence: UInt64
        var receiveTime: Int64
        var next = -1
    }

    private func compact(_ input: DataStore.CompactionInput, scratch: inout Scratch, step: (CompactionStep) -> Void) throws -> Report {
        let started = SegmentLog.monotonicNow()
        var input = input
        var report = Report()
        report.segments = input.segments.count
        report.rawFileBytes = input.fileBytes
        var groups: [Group] = []
        var slots = HashSlots(capacity: 1024)
        var carried = RecordBatch()
        scratch.reset(reserving: Int(input.uncompressedBytes), records: Int(input.recordCount))
        let traceSpace = KeySpace(rawValue: IndexSpaces.traceID)
        try store.readRecords(of: &input) { sequence, record in
            report.rawRecords += 1
            report.rawPayloadBytes += UInt64(record.payload.count)
            var traceKey: UnsafeRawBufferPointer?
            record.forEachKey { space, key in
                if space == traceSpace && traceKey == nil { traceKey = key }
            }
            guard record.kind == .rawEvent, let traceKey else {
                carried.append(record)
                report.carried += 1
                return
            }
            // Found by a hash of (project, trace id) without building a key; the bytes confirm it.
            let hash = tableHash(traceKey, seed: tableHash(record.project))
            let index = scratch.records.count
            scratch.records.append(RawRecord(offset: scratch.arena.count, length: record.payload.count, sequence: sequence,
                                             receiveTime: record.receiveTime))
            scratch.arena.append(contentsOf: record.payload)
            if let found = slots.first(hash, where: { groups[$0].hash == hash
                    && scratch.matches(groups[$0], project: record.project, traceKey: traceKey) }) {
                scratch.records[groups[found].last].next = index
                groups[found].last = index
                return
            }
            groups.append(Group(project: record.projectString, traceID: String(decoding: traceKey, as: UTF8.self),
                                keyStart: scratch.groupKeys.count, projectLength: record.project.count,
                                traceLength: traceKey.count, first: index, last: index, hash: hash))
            scratch.groupKeys.append(contentsOf: record.project)
            scratch.groupKeys.append(contentsOf: traceKey)
            slots.add(hash) { groups[$0].hash }
        }
        let builder = try store.makeCompactedSegment(replacing: input,
                                                   wordCodedStreams: configuration.wordCodes ? [DocumentStream.text.rawValue] : [])
        if !carried.isEmpty { try builder.append(carried) }
        let (prices, scoreConfigs) = rules.withLock { ($0.prices, $0.scoreConfigs) }
        let keys = groups.map { TraceDocuments.traceIndexKey($0.traceID) }
        // Traces with a document already (late events) are merged by the full fold, after the
        // others, in the order of their documents: each frame of the older segments is then read once.
        let earlier = try store.compactedLocations(keys)
        var merging: [Int] = []
        var writer = scratch.writer
        var events = scratch.events
        defer {
            scratch.writer = writer
            scratch.events = events
        }
        let records = scratch.records
        try scratch.arena.withUnsafeBytes { arena in
            func gather(_ group: Group) {
                events.removeAll(keepingCapacity: true)
                var next = group.first
                while next >= 0 {
                    let record = records[next]
                    let payload = UnsafeRawBufferPointer(rebasing: arena[record.offset..<(record.offset + record.length)])
                    events.append(CompactedTrace.RawEvent(payload: payload, sequence: record.sequence, receiveTime: record.receiveTime))
                    next = record.next
                }
            }
            for (position, group) in groups.enumerated() {
                guard earlier[position].isEmpty else {
                    merging.append(position)
                    continue
                }
                gather(group)
                if writer.write(traceID: group.traceID, events: events, project: group.project, prices: prices, scoreConfigs: scoreConfigs) {
                    try writer.document.withUnsafeBytes { document in
                        try builder.append(kind: .compactedDocument, receiveTime: writer.receivedLast, project: group.project,
                                           key: keys[position], payload: document, runs: writer.runs, streams: writer.runStreams)
                    }
                    report.documents += 1
                } else {
                    try fold(group, events: events, key: keys[position], earlier: [], prices: prices, scoreConfigs: scoreConfigs,
                             into: builder, report: &report)
                }
            }
            guard !merging.isEmpty else { return }
            merging.sort { earlier[$0].min()! < earlier[$1].min()! }
            let documents = OpenSegments()
            for position in merging {
                gather(groups[position])
                let found = try store.compactedRecords(for: keys[position], at: earlier[position], through: documents)
                    .filter { $0.project == groups[position].project }
                try fold(groups[position], events: events, key: keys[position], earlier: found, prices: prices,
                         scoreConfigs: scoreConfigs, into: builder, report: &report)
            }
            report.mergeFramesRead += documents.sealedFramesDecompressed
        }
        let commit = try store.publish(builder, replacing: input, step: step)
        report.compactedSegments = 1
        report.compactedFileBytes = commit.fileBytes
        report.superseded = commit.superseded
        report.seconds = Double(SegmentLog.monotonicNow() &- started) / 1e9
        return report
    }

    /// One trace through the full fold (`TraceLoader`, what every read does): with its earlier
    /// document when it has one, and whenever the direct writer leaves it (late rejects among its events …).
    private func fold(_ group: Group, events: [CompactedTrace.RawEvent], key: IndexKey, earlier: [StoredRecord], prices: PriceBook,
                      scoreConfigs: ScoreConfigs, into builder: CompactedSegmentBuilder, report: inout Report) throws {
        let records = events.map {
            StoredRecord(sequence: $0.sequence, kind: .rawEvent, receiveTime: $0.receiveTime, project: group.project, keys: [],
                         payload: Array($0.payload))
        }
        if !earlier.isEmpty { report.merged += 1 }
        let loaded = TraceLoader.fold(group.traceID, records: earlier + records, prices: prices, scoreConfigs: scoreConfigs)
        // Events that do not decode stay as they came (they were dead-lettered when they settled).
        let rejected = Set(loaded.lateRejects.map(\.sequence))
        var batch = RecordBatch()
        for record in records where rejected.contains(record.sequence) {
            batch.append(kind: .rawEvent, receiveTime: record.receiveTime, project: record.project, keys: [key],
                         payload: record.payload)
            report.carried += 1
        }
        if !batch.isEmpty { try builder.append(batch) }
        if loaded.folded.events > 0 || loaded.folded.trace.hasTraceEvent {
            let document = CompactedTrace.writtenDocument(loaded.folded, receivedFirst: loaded.times.created,
                                                          receivedLast: loaded.times.updated)
            try document.bytes.withUnsafeBytes { payload in
                try builder.append(kind: .compactedDocument, receiveTime: loaded.times.updated, project: group.project, key: key,
                                   payload: payload, runs: document.runs, streams: document.runStreams)
            }
            report.documents += 1
        }
    }
}

extension RecordBatch {
    /// Appends a record read from a segment, as it was.
    mutating func append(_ record: RecordView) {
        startRecord(kind: record.kind, receiveTime: record.receiveTime, project: record.project)
        record.forEachKey { space, key in addKey(space, key) }
        finishRecord(payload: record.payload)
    }
}

extension Compactor: Service {}

#if canImport(Glibc)
import Glibc
#endif
