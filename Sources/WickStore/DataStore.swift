import Synchronization

public import Logging

/// A data directory opened for writing: the event log, the dead-letter log, and the LMDB index kept
/// up to date behind them. One per data directory: it holds the directory's lock for as long as it
/// is open. Readers in other processes use `StoreReader` beside it.
public final class DataStore: Sendable {
    public struct Configuration: Sendable {
        public var log = SegmentLog.Configuration()
        public var deadLetter: SegmentLog.Configuration = {
            var configuration = SegmentLog.Configuration()
            configuration.maxSegmentBytes = 16 << 20
            configuration.maxPendingBytes = 8 << 20
            return configuration
        }()
        public var retention = RetentionPolicy()
        public var deadLetterRetention = RetentionPolicy(maxBytes: 256 << 20)
        /// How often retention runs and stale LMDB readers are cleared.
        public var maintenanceIntervalMilliseconds: Int64 = 60_000
        /// LMDB map size to start with; doubled whenever it fills.
        public var indexInitialMapBytes = 256 << 20
        /// zstd level of compacted segments. Level 1 with zstd's own parameters compresses word-coded
        /// frames within 0.2% of the tuned level 3, a fifth faster (Zstd.swift).
        public var compactionCompressionLevel: Int32 = 1
        /// Frame size of compacted segments: larger than the log's (more context for zstd; a lookup
        /// decompresses one frame per document, which is still about a millisecond).
        public var compactionFrameBytes = 1 << 20

        public init() {}
    }

    public let directory: DataDirectory
    public let events: SegmentLog
    public let deadLetters: SegmentLog
    let index: IndexStore
    let indexer: Indexer
    private let lock: DirectoryLock
    let logger: Logger
    public let configuration: Configuration
    private let retention: Mutex<(events: RetentionPolicy, deadLetters: RetentionPolicy)>
    /// What opening found and did about the index.
    public let indexRecovery: IndexRecovery
    /// Held while segments are deleted: by the indexer's retention pass, or by `releaseCompactedNow`.
    let maintenance = Mutex<Void>(())
    /// The compacted segments (for lookups) and the id the next one gets.
    let compaction: Mutex<(segments: [SegmentInfo], nextID: UInt64)>

    public struct IndexRecovery: Sendable, Equatable {
        /// The index was missing, unreadable, or ahead of the log, and was built again.
        public var rebuilt = false
        public var reason: String? = nil
        /// Frames indexed at start-up to catch up with the log.
        public var framesIndexed = 0
        /// Compacted segments published before a crash and indexed at start-up.
        public var compactedRolledForward = 0
    }

    /// Opens (creating if needed) and recovers a data directory, then starts its writer threads.
    /// Fails with `.locked` when another process has it open for writing.
    public static func open(_ directory: DataDirectory, configuration: Configuration = Configuration(),
                            logger: Logger) throws(StorageError) -> DataStore {
        try FileSystem.createDirectories(directory.root)
        guard let lock = try DirectoryLock.acquire(directory.lockPath) else {
            throw StorageError(code: .locked, message: "\(directory.root) is in use by another wick process (the daemon?)")
        }
        do {
            return try DataStore(directory: directory, configuration: configuration, lock: lock, logger: logger)
        } catch {
            lock.release()
            throw error
        }
    }

    private init(directory: DataDirectory, configuration: Configuration, lock: DirectoryLock, logger: Logger) throws(StorageError) {
        self.directory = directory
        self.configuration = configuration
        self.lock = lock
        self.logger = logger
        var recovery = IndexRecovery()
        let index = try Self.openIndex(directory, configuration: configuration, logger: logger, recovery: &recovery)
        self.index = index
        let retiredBelow = try index.meta(.retiredBelow) ?? 0
        let indexer = Indexer(index: index, highWaterMark: try index.highWaterMark(), logger: logger)
        self.indexer = indexer
        var indexRecovery = recovery
        events = try SegmentLog(
            directory: directory.logDirectory, kind: .raw, configuration: configuration.log, retiredBelow: retiredBelow,
            logger: logger, onCommit: { indexer.submit($0) },
            onRecovered: { (recovered) throws(StorageError) in
                try Self.reconcile(index: index, recovered: recovered, logger: logger, recovery: &indexRecovery)
            })
        indexer.highWaterMark.store(try index.highWaterMark(), ordering: .relaxed)
        do {
            deadLetters = try SegmentLog(directory: directory.deadLetterDirectory, kind: .reject,
                                         configuration: configuration.deadLetter, retiredBelow: 0, logger: logger,
                                         onCommit: nil, onRecovered: { _ throws(StorageError) in })
        } catch {
            events.close()
            throw error
        }
        do throws(StorageError) {
            indexRecovery.compactedRolledForward = try Self.reconcileCompacted(
                index: index, directory: directory, rawSegments: events.segments, logger: logger)
        } catch {
            events.close()
            deadLetters.close()
            throw error
        }
        let compacted = CompactedSegments.infos(in: directory)
        compaction = Mutex((compacted, max(CompactedSegments.firstID, (compacted.last?.id ?? 0) + 1)))
        self.indexRecovery = indexRecovery
        retention = Mutex((configuration.retention, configuration.deadLetterRetention))
        indexer.start(interval: configuration.maintenanceIntervalMilliseconds) { [weak self] in
            self?.runRetention()
        }
        logRecovery(events.recovery, log: "events")
        logRecovery(deadLetters.recovery, log: "dead-letter")
    }

    /// Commits everything pending, syncs, and stops the writer and indexer threads; then releases the
    /// directory lock.
    public func close() {
        events.close()
        deadLetters.close()
        indexer.close()
        lock.release()
    }

    // MARK: - Index

    private static func openIndex(_ directory: DataDirectory, configuration: Configuration, logger: Logger,
                                  recovery: inout IndexRecovery) throws(StorageError) -> IndexStore {
        do {
            let index = try IndexStore(path: directory.indexPath, readOnly: false,
                                       initialMapSize: configuration.indexInitialMapBytes)
            let version = try index.meta(.formatVersion)
            if version == nil || version == UInt64(IndexStore.formatVersion) {
                if version == nil {
                    try index.environment.withWrite { (txn) throws(StorageError) in
                        try index.setMeta(.formatVersion, UInt64(IndexStore.formatVersion), txn: txn)
                    }
                }
                return index
            }
            recovery.reason = "index format version \(version ?? 0) is not \(IndexStore.formatVersion)"
        } catch {
            recovery.reason = "index unreadable: \(error)"
        }
        // Derived data: throw it away and build it again from the segments.
        logger.warning("index.rebuilding", metadata: ["reason": "\(recovery.reason ?? "")"])
        recovery.rebuilt = true
        try FileSystem.remove(directory.indexPath)
        try FileSystem.remove(directory.indexPath + "-lock")
        let index = try IndexStore(path: directory.indexPath, readOnly: false,
                                   initialMapSize: configuration.indexInitialMapBytes)
        try index.environment.withWrite { (txn) throws(StorageError) in
            try index.setMeta(.formatVersion, UInt64(IndexStore.formatVersion), txn: txn)
        }
        return index
    }

    /// Makes the index agree with the recovered log: catalog entries for exactly the segments on
    /// disk, and every record below the log's end indexed. An index ahead of the log (the log lost
    /// its tail, which a crash with fsync `never` can do) is rebuilt from scratch.
    private static func reconcile(index: IndexStore, recovered: RecoveredLog, logger: Logger,
                                  recovery: inout IndexRecovery) throws(StorageError) {
        var highWaterMark = try index.highWaterMark()
        let next = recovered.active.nextSequence
        if highWaterMark > next {
            recovery.rebuilt = true
            recovery.reason = "index high-water mark \(highWaterMark) is past the log's end \(next)"
            logger.warning("index.rebuilding", metadata: ["reason": "\(recovery.reason ?? "")"])
            try index.environment.withWrite { (txn) throws(StorageError) in try index.clearDerived(txn: txn) }
            highWaterMark = 0
        }
        try index.environment.withWrite { (txn) throws(StorageError) in
            let onDisk = Set(recovered.catalog.map(\.segmentID))
            for entry in try index.segments(txn: txn)
            where !onDisk.contains(entry.segmentID) && !CompactedSegments.contains(entry.segmentID) {
                try index.removeSegment(entry.segmentID, txn: txn)
            }
            for entry in recovered.catalog { try index.putSegment(entry, txn: txn) }
            // A cursor past the log's end (the log lost its tail) starts again at the end.
            for (name, position) in try index.cursors(txn: txn) where position > next {
                try index.setCursor(name, next, txn: txn)
            }
            if recovered.report.truncatedBytes > 0 || recovered.report.droppedFrames > 0 {
                try index.addMeta(.recoveryTruncatedBytes, UInt64(recovered.report.truncatedBytes), txn: txn)
                try index.addMeta(.recoveryDroppedFrames, UInt64(recovered.report.droppedFrames), txn: txn)
                try index.addMeta(.recoveryRuns, 1, txn: txn)
            }
        }
        recovery.framesIndexed = try IndexCatchUp.run(index: index, segments: recovered.segments,
                                                      from: highWaterMark, to: next)
    }

    // MARK: - Lookups and cursors

    /// The index's high-water mark: every record below it is indexed.
    public var indexHighWaterMark: UInt64 { indexer.highWaterMark.load(ordering: .acquiring) }

    /// Records that carry `key`, in sequence order: raw events, and compacted records in place of
    /// the raw ones they replaced.
    public func records(for key: IndexKey) throws(StorageError) -> [StoredRecord] {
        // A compaction may publish and release between reading the index and reading a file: the
        // second look sees the index after it.
        if let records = try lookup().records(for: key) { return records }
        return try lookup().records(for: key) ?? []
    }

    /// The same, through readers one thread keeps open from call to call.
    public func records(for key: IndexKey, through open: OpenSegments) throws(StorageError) -> [StoredRecord] {
        if let records = try lookup(through: open).records(for: key) { return records }
        return try lookup(through: open).records(for: key) ?? []
    }

    /// Closes `open`'s readers of segments that are gone, so that their files' space is freed
    /// even when no lookup comes to do it.
    public func closeRetired(_ open: OpenSegments) {
        guard open.count > 0 else { return }
        open.keep(only: events.segments + compaction.withLock { $0.segments })
    }

    public func locations(for key: IndexKey) throws(StorageError) -> [FrameLocation] {
        try lookup().locations(for: key)
    }

    /// The records of one frame (a location from `locations(for:)`), checksum verified.
    public func records(at location: FrameLocation) throws(StorageError) -> [StoredRecord] {
        try KeyLookup.records(at: location, in: events.segments + compaction.withLock { $0.segments })
    }

    private func lookup(through open: OpenSegments? = nil) -> KeyLookup {
        var lookup = KeyLookup(index: index, segments: events.segments, compacted: compaction.withLock { $0.segments },
                               highWaterMark: indexHighWaterMark, liveFrames: { [events] in events.liveFrames(segment: $0, after: $1) })
        if let open { lookup.open = { open.reader($0) } }
        return lookup
    }

    /// Where consumer `name` has got to (the next sequence number it will read); nil if it never set one.
    public func cursor(_ name: String) throws(StorageError) -> UInt64? {
        try index.cursor(name)
    }

    /// Moves a named cursor. Only call it with positions whose records are durable.
    public func setCursor(_ name: String, to sequence: UInt64) throws(StorageError) {
        precondition(sequence <= events.durableSequence, "cursor \(name) set past the durable log")
        try index.environment.withWrite { (txn) throws(StorageError) in try index.setCursor(name, sequence, txn: txn) }
    }

    /// Every named cursor and where it is.
    public func cursors() throws(StorageError) -> [String: UInt64] {
        try index.cursors()
    }

    public func removeCursor(_ name: String) throws(StorageError) {
        try index.environment.withWrite { (txn) throws(StorageError) in try index.removeCursor(name, txn: txn) }
    }

    public var indexStatistics: IndexStatistics {
        IndexStatistics(highWaterMark: indexHighWaterMark,
                        commits: indexer.indexedCommits.load(ordering: .relaxed),
                        errors: indexer.indexErrors.load(ordering: .relaxed),
                        retentionDeletedSegments: indexer.retentionDeletedSegments.load(ordering: .relaxed),
                        retentionLostRecords: indexer.retentionLostRecords.load(ordering: .relaxed),
                        retentionBlocked: indexer.retentionBlocked.load(ordering: .relaxed),
                        mapBytes: index.environment.mapSize)
    }

    /// Asks retention to run now (it also runs every maintenance interval and after rotations).
    public func requestRetention() {
        indexer.requestRetention()
    }

    // MARK: - Retention

    /// Changes the retention policies while running (SIGHUP); applied at the next retention run.
    public func setRetention(events: RetentionPolicy, deadLetters: RetentionPolicy) {
        retention.withLock { $0 = (events, deadLetters) }
        indexer.requestRetention()
    }

    /// Runs on the indexer thread.
    private func runRetention() {
        let policies = retention.withLock { $0 }
        maintenance.withLock { _ in runRetention(policies) }
    }

    private func runRetention(_ policies: (events: RetentionPolicy, deadLetters: RetentionPolicy)) {
        do {
            try applyRetention(to: events, policy: policies.events, indexed: true)
            try applyRetention(to: deadLetters, policy: policies.deadLetters, indexed: false)
            try releaseCompacted()
        } catch {
            logger.error("retention.failed", metadata: ["error": "\(error)"])
        }
    }

    private func applyRetention(to log: SegmentLog, policy: RetentionPolicy, indexed: Bool) throws(StorageError) {
        guard policy.maxBytes > 0 || policy.maxAgeMilliseconds > 0 else { return }
        let catalog: [CatalogEntry]
        let cursors: [String: UInt64]
        if indexed {
            catalog = try index.segments()
            cursors = try index.cursors()
        } else {
            catalog = try log.segments.map { info throws(StorageError) in try Self.catalogEntry(info) }
            cursors = [:]
        }
        let live = Set(log.segments.map(\.id))
        let plan = RetentionPlan.make(segments: catalog.filter { live.contains($0.segmentID) },
                                      slowestCursor: cursors.values.min(),
                                      now: log.configuration.clock.microseconds(), policy: policy)
        if plan.blockedByCursor { indexer.retentionBlocked.add(1, ordering: .relaxed) }
        for victim in plan.victims {
            guard let info = log.segments.first(where: { $0.id == victim.segmentID }) else { continue }
            if indexed {
                try retireIndexed(info, lost: victim.lostRecords)
            }
            log.segmentRetired(info.id)
            try FileSystem.remove(info.path)
            try FileSystem.syncDirectory(log.directory)
            indexer.retentionDeletedSegments.add(1, ordering: .relaxed)
            if victim.lostRecords > 0 {
                indexer.retentionLostRecords.add(Int(victim.lostRecords), ordering: .relaxed)
                logger.error("retention.dropped-unconsumed", metadata: [
                    "segment.id": "\(info.id)", "records": "\(victim.lostRecords)",
                    "reason": "disk budget of \(policy.maxBytes) bytes exceeded",
                ])
            } else {
                logger.info("retention.deleted", metadata: ["segment.id": "\(info.id)", "log": "\(log.directory)"])
            }
        }
    }

    /// Removes a segment from the index before its file goes: entries, catalog, and the retired
    /// watermark, made durable first, so a crash in between leaves a file recovery deletes rather
    /// than an index pointing at nothing (the Vector #25570 ordering).
    private func retireIndexed(_ info: SegmentInfo, lost: UInt64) throws(StorageError) {
        var keys = Set<[UInt8]>()
        if let reader = try? SegmentReader(path: info.path, segmentID: info.id) {
            let frames: [SegmentFooter.FrameEntry]
            if let footer = reader.footer { frames = footer.frames } else { frames = try reader.scan().frames }
            for frame in frames {
                _ = try? reader.readFrame(at: frame.offset) { _, record in
                    record.forEachKey { space, key in keys.insert(IndexKeyEncoding.lmdbKey(space, key)) }
                }
            }
        }
        let sortedKeys = keys.sorted(by: IndexKeyEncoding.lmdbOrder)
        try index.environment.withWrite { (txn) throws(StorageError) in
            _ = try index.removeEntries(segment: info.id, keys: sortedKeys, txn: txn)
            try index.removeSegment(info.id, txn: txn)
            if info.id + 1 > (try index.meta(.retiredBelow, txn: txn) ?? 0) {
                try index.setMeta(.retiredBelow, info.id + 1, txn: txn)
            }
            try index.addMeta(.retentionDeletedSegments, 1, txn: txn)
            try index.addMeta(.retentionLostRecords, lost, txn: txn)
        }
        try index.environment.sync()
    }

    private static func catalogEntry(_ info: SegmentInfo) throws(StorageError) -> CatalogEntry {
        let reader = try SegmentReader(path: info.path, segmentID: info.id)
        let frames = reader.footer?.frames ?? []
        return CatalogEntry(segmentID: info.id, kind: reader.header?.kind ?? .reject, sealed: info.sealed,
                            firstSequence: info.firstSequence,
                            nextSequence: frames.last.map { $0.firstSequence + UInt64($0.recordCount) } ?? info.firstSequence,
                            recordCount: frames.reduce(0) { $0 + UInt64($1.recordCount) },
                            frameCount: UInt32(frames.count), fileBytes: reader.fileSize,
                            uncompressedBytes: frames.reduce(0) { $0 + UInt64($1.uncompressedLength) },
                            createdAt: reader.header?.createdAt ?? 0,
                            minReceiveTime: frames.map(\.minReceiveTime).min() ?? 0,
                            maxReceiveTime: frames.map(\.maxReceiveTime).max() ?? 0)
    }

    private func logRecovery(_ report: RecoveryReport, log: String) {
        guard report.truncatedBytes > 0 || report.droppedFrames > 0 || report.sealedOnRecovery > 0
            || report.damagedRanges > 0 || report.removedRetiredFiles > 0
        else { return }
        logger.warning("recovery.done", metadata: [
            "log": "\(log)", "segments": "\(report.segments)", "truncated.bytes": "\(report.truncatedBytes)",
            "dropped.frames": "\(report.droppedFrames)", "dropped.records": "\(report.droppedRecords)",
            "sealed": "\(report.sealedOnRecovery)", "damaged.ranges": "\(report.damagedRanges)",
        ])
    }
}

/// The index's counters, for metrics.
public struct IndexStatistics: Sendable {
    public var highWaterMark: UInt64
    public var commits: Int
    public var errors: Int
    public var retentionDeletedSegments: Int
    public var retentionLostRecords: Int
    public var retentionBlocked: Int
    public var mapBytes: Int
}

// MARK: - Documents

extension DataStore {
    /// Writes documents and moves a cursor in one transaction: a consumer that keeps derived state
    /// here (the assembler's summaries) resumes after a crash exactly where its state says.
    public func commitDocuments(_ writes: [DocumentWrite], cursor: (name: String, sequence: UInt64)?) throws(StorageError) {
        if let cursor {
            precondition(cursor.sequence <= events.durableSequence, "cursor \(cursor.name) set past the durable log")
        }
        try index.environment.withWrite { (txn) throws(StorageError) in
            try index.applyDocuments(writes, txn: txn)
            if let cursor { try index.setCursor(cursor.name, cursor.sequence, txn: txn) }
        }
    }

    /// Writes documents and removes a cursor in one transaction (a consumer done with what the
    /// cursor held: `wick import`'s batch, once its ledger is written).
    public func commitDocuments(_ writes: [DocumentWrite], removingCursor name: String) throws(StorageError) {
        try index.environment.withWrite { (txn) throws(StorageError) in
            try index.applyDocuments(writes, txn: txn)
            try index.removeCursor(name, txn: txn)
        }
    }

    public func document(namespace: UInt8, key: [UInt8]) throws(StorageError) -> [UInt8]? {
        try index.environment.withRead { (txn) throws(StorageError) -> [UInt8]? in
            try index.document(namespace: namespace, key: key, txn: txn)?.value
        }
    }

    /// Whether each key has a document, in one read transaction.
    public func hasDocuments(namespace: UInt8, keys: [[UInt8]]) throws(StorageError) -> [Bool] {
        try index.environment.withRead { (txn) throws(StorageError) -> [Bool] in
            var found: [Bool] = []
            found.reserveCapacity(keys.count)
            for key in keys { found.append(try index.document(namespace: namespace, key: key, txn: txn) != nil) }
            return found
        }
    }

    public func walkDocuments(namespace: UInt8, descending: Bool, after: [UInt8]? = nil,
                              _ body: (_ position: [UInt8], _ key: [UInt8], _ value: [UInt8]) -> Bool) throws(StorageError) {
        try index.walkDocuments(namespace: namespace, descending: descending, after: after, body)
    }
}

extension StoreReader {
    public func document(namespace: UInt8, key: [UInt8]) throws(StorageError) -> [UInt8]? {
        guard let index else { return nil }
        return try index.environment.withRead { (txn) throws(StorageError) -> [UInt8]? in
            try index.document(namespace: namespace, key: key, txn: txn)?.value
        }
    }

    public func walkDocuments(namespace: UInt8, descending: Bool, after: [UInt8]? = nil,
                              _ body: (_ position: [UInt8], _ key: [UInt8], _ value: [UInt8]) -> Bool) throws(StorageError) {
        try index?.walkDocuments(namespace: namespace, descending: descending, after: after, body)
    }
}
