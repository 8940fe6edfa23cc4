import Logging
import Synchronization

/// Compaction, as the store sees it (docs/format.md §7, docs/durability.md): the caller reads the
/// oldest raw segments, writes what replaces them into a `CompactedSegmentBuilder`, and publishes
/// it. Publishing is crash-atomic: the file is written and synced in `compacted/tmp/`, renamed into
/// `compacted/`, the directory synced, and then one LMDB transaction points the index at the new
/// records and away from the raw ones (and from older compacted records of the same keys). A
/// published file is the commit point: start-up rolls forward any the index has not caught up with.
/// Raw segments are deleted later, by the maintenance pass, once every cursor has passed them.
extension DataStore {
    /// Raw frames to compact next, oldest first, and the sequence numbers they hold. A compaction
    /// replaces whole frames, not whole segments, so that its memory is bounded by
    /// `compaction.max-input-bytes` whatever the segment size; a raw segment is deleted once
    /// compactions have replaced all of it.
    public struct CompactionInput: Sendable {
        public struct Part: Sendable {
            public var segment: SegmentInfo
            var frames: [SegmentFooter.FrameEntry]
        }

        public var parts: [Part]
        public var covered: Range<UInt64>
        public var recordCount: UInt64 = 0
        public var uncompressedBytes: UInt64 = 0
        /// The bytes these frames take in their segments.
        public var fileBytes: Int64 = 0
        /// The index keys (LMDB form) of each segment's records read, gathered while they are read.
        var rawKeys: [UInt64: KeySet] = [:]

        public var segments: [SegmentInfo] { parts.map(\.segment) }
    }

    /// Every raw record below this has been replaced by compacted records.
    public var compactedBelow: UInt64 {
        (try? index.meta(.compactedBelow)) ?? 0
    }

    /// The oldest raw frames not compacted yet, of sealed segments, whose records all lie below
    /// `gate` (the slowest consumer that must see raw events first: the assembler), at most
    /// `maxBytes` uncompressed (but at least one frame). Nil when none is ready.
    public func nextCompactionInput(below gate: UInt64, maxBytes: UInt64) throws(StorageError) -> CompactionInput? {
        let from = compactedBelow
        let live = Dictionary(uniqueKeysWithValues: events.segments.map { ($0.id, $0) })
        var input = CompactionInput(parts: [], covered: from..<from)
        segments: for entry in try index.segments() where !CompactedSegments.contains(entry.segmentID) && entry.nextSequence > from {
            guard entry.kind == .raw, entry.sealed, let info = live[entry.segmentID],
                  let reader = try? SegmentReader(path: info.path, segmentID: info.id), let footer = reader.footer
            else { break }
            var part = CompactionInput.Part(segment: info, frames: [])
            for frame in footer.frames {
                let end = frame.firstSequence + UInt64(frame.recordCount)
                guard end > from else { continue }
                guard end <= gate else { break }
                if input.recordCount > 0 && input.uncompressedBytes + UInt64(frame.uncompressedLength) > maxBytes { break }
                if input.recordCount == 0 { input.covered = max(from, frame.firstSequence)..<end }
                part.frames.append(frame)
                input.covered = input.covered.lowerBound..<end
                input.recordCount += UInt64(frame.recordCount)
                input.uncompressedBytes += UInt64(frame.uncompressedLength)
                input.fileBytes += frame.frameLength
            }
            if !part.frames.isEmpty { input.parts.append(part) }
            // Stop at the first frame left behind: what is compacted stays one prefix of the log.
            if part.frames.last.map({ $0.offset != footer.frames.last?.offset }) ?? true { break segments }
            // A range covers the whole segment up to its end (damaged frames left gaps).
            input.covered = input.covered.lowerBound..<max(input.covered.upperBound, entry.nextSequence)
        }
        return input.recordCount == 0 ? nil : input
    }

    /// Reads the input's records in sequence order (damaged frames skipped, as every reader does),
    /// noting their keys for the index.
    public func readRecords(of input: inout CompactionInput, _ body: (UInt64, RecordView) throws -> Void) throws {
        for part in input.parts {
            let reader = try SegmentReader(path: part.segment.path, segmentID: part.segment.id)
            var keys = KeySet()
            for frame in part.frames {
                do {
                    _ = try reader.readFrame(at: frame.offset) { sequence, record in
                        record.forEachKey { space, key in keys.insert(space, key) }
                        try body(sequence, record)
                    }
                } catch let error as StorageError where error.code == .checksumMismatch || error.code == .corruptSegment {
                    continue
                }
            }
            input.rawKeys[part.segment.id] = keys
        }
    }

    /// A builder for the segment that will replace `input`. The streams named in `wordCodedStreams`
    /// hold text: each frame writes them word-coded where that makes them smaller (`WordCodes`).
    public func makeCompactedSegment(replacing input: CompactionInput,
                                     wordCodedStreams: Set<UInt8> = []) throws(StorageError) -> CompactedSegmentBuilder {
        let id = compaction.withLock { state -> UInt64 in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return try CompactedSegmentBuilder(directory: directory, id: id, covered: input.covered,
                                           createdAt: configuration.log.clock.microseconds(),
                                           frameBytes: configuration.compactionFrameBytes,
                                           compressionLevel: configuration.compactionCompressionLevel,
                                           wordCodedStreams: wordCodedStreams)
    }

    public struct CompactionCommit: Sendable {
        public var segment: CompactedSegment
        public var records: UInt64
        public var fileBytes: Int64
        /// Older compacted records the new ones replace (late events merged in).
        public var superseded: Int
    }

    /// Makes `builder`'s records visible in place of `input`'s (see the type's comment for the
    /// order). `step` is told after each step (the crash test stops the process there).
    public func publish(_ builder: CompactedSegmentBuilder, replacing input: CompactionInput,
                        step: (CompactionStep) -> Void = { _ in }) throws(StorageError) -> CompactionCommit {
        step(.written)
        try builder.finish()
        step(.synced)
        let path = directory.compactedDirectory + "/" + SegmentNaming.fileName(builder.id)
        try FileSystem.rename(builder.path, to: path)
        step(.renamed)
        try FileSystem.syncDirectory(directory.compactedDirectory)
        step(.directorySynced)
        let segment = CompactedSegment(info: SegmentInfo(id: builder.id, path: path, firstSequence: input.covered.lowerBound,
                                                         sealed: true),
                                       covered: input.covered)
        var rawKeys: [RawFrames] = []
        for part in input.parts {
            guard let first = part.frames.first, let last = part.frames.last else { continue }
            rawKeys.append(RawFrames(locations: FrameLocation(segment: part.segment.id, offset: first.offset)...FrameLocation(
                segment: part.segment.id, offset: last.offset), keys: (input.rawKeys[part.segment.id] ?? KeySet()).sorted()))
        }
        let superseded = try Self.repoint(index: index, segment: segment, catalog: builder.catalogEntry(), work: builder.work,
                                          raw: rawKeys)
        compaction.withLock { $0.segments.append(segment.info) }
        step(.indexed)
        indexer.requestRetention()
        return CompactionCommit(segment: segment, records: builder.recordCount, fileBytes: builder.catalogEntry().fileBytes,
                                superseded: superseded)
    }

    /// The one transaction that makes a compacted segment visible: its records indexed, the raw
    /// records it replaces and older compacted records of the same keys unindexed, the catalog and
    /// the compacted-below mark updated. Idempotent (start-up may run it again for the same segment).
    /// Raw frames a compacted segment replaces (one segment's, from the first to the last), and
    /// the keys their records carry.
    struct RawFrames {
        var locations: ClosedRange<FrameLocation>
        var keys: [[UInt8]]
    }

    static func repoint(index: IndexStore, segment: CompactedSegment, catalog: CatalogEntry, work: IndexWork,
                        raw: [RawFrames]) throws(StorageError) -> Int {
        var work = work
        work.sortAndDeduplicate()
        work.highWaterMark = 0
        var newKeys: [[UInt8]] = []
        for entry in work.entries {
            let key = try work.withKey(entry) { Array($0) }
            if newKeys.last != key { newKeys.append(key) }
        }
        let batch = work
        return try index.environment.withWrite { (txn) throws(StorageError) -> Int in
            for frames in raw { _ = try index.removeEntries(frames.locations, keys: frames.keys, txn: txn) }
            var superseded = 0
            if segment.info.id > CompactedSegments.firstID {
                superseded = try index.removeEntries(segments: CompactedSegments.firstID...(segment.info.id - 1), keys: newKeys, txn: txn)
            }
            try index.apply(batch, txn: txn)
            try index.putSegment(catalog, txn: txn)
            if segment.covered.upperBound > (try index.meta(.compactedBelow, txn: txn) ?? 0) {
                try index.setMeta(.compactedBelow, segment.covered.upperBound, txn: txn)
            }
            try index.addMeta(.compactionSegments, 1, txn: txn)
            try index.addMeta(.compactionSupersededRecords, UInt64(superseded), txn: txn)
            return superseded
        }
    }

    // MARK: - Start-up and release

    /// Brings the index up to date with `compacted/`: unpublished files deleted, published ones the
    /// index does not know yet (a crash after the rename) rolled forward in order, catalog rows of
    /// vanished files dropped. Runs after the raw log is reconciled.
    static func reconcileCompacted(index: IndexStore, directory: DataDirectory, rawSegments: [SegmentInfo],
                                   logger: Logger) throws(StorageError) -> Int {
        let staged = try CompactedSegments.removeUnpublished(in: directory)
        if staged > 0 { logger.warning("compaction.unpublished-removed", metadata: ["files": "\(staged)"]) }
        // Names only: a segment file is opened only when the index does not know it yet.
        let present = Set(CompactedSegments.infos(in: directory).map(\.id))
        let known = Set(try index.segments().map(\.segmentID).filter(CompactedSegments.contains))
        let vanished = known.subtracting(present)
        if !vanished.isEmpty {
            try index.environment.withWrite { (txn) throws(StorageError) in
                for id in vanished { try index.removeSegment(id, txn: txn) }
            }
        }
        var rolled = 0
        for id in present.subtracting(known).sorted() {
            guard let segment = CompactedSegments.segment(id, in: directory) else { continue }
            let reader = try SegmentReader(path: segment.info.path, segmentID: segment.info.id)
            var work = IndexWork()
            var catalog = CatalogEntry(segmentID: segment.info.id, kind: .compacted, sealed: true,
                                       firstSequence: segment.covered.lowerBound, nextSequence: segment.covered.lowerBound,
                                       recordCount: 0, frameCount: 0, fileBytes: reader.fileSize, uncompressedBytes: 0,
                                       createdAt: reader.header?.createdAt ?? 0, minReceiveTime: .max, maxReceiveTime: .min)
            for frame in reader.footer?.frames ?? [] {
                let location = FrameLocation(segment: segment.info.id, offset: frame.offset)
                _ = try? reader.readFrame(at: frame.offset) { _, record in
                    record.forEachKey { space, key in work.add(space: space, key: key, location: location) }
                }
                catalog.frameCount += 1
                catalog.recordCount += UInt64(frame.recordCount)
                catalog.nextSequence = frame.firstSequence + UInt64(frame.recordCount)
                catalog.uncompressedBytes += UInt64(frame.uncompressedLength)
                catalog.minReceiveTime = min(catalog.minReceiveTime, frame.minReceiveTime)
                catalog.maxReceiveTime = max(catalog.maxReceiveTime, frame.maxReceiveTime)
            }
            if catalog.recordCount == 0 { catalog.minReceiveTime = 0; catalog.maxReceiveTime = 0 }
            var raw: [RawFrames] = []
            for (position, rawSegment) in rawSegments.enumerated() {
                let next = position + 1 < rawSegments.count ? rawSegments[position + 1].firstSequence : UInt64.max
                guard next > segment.covered.lowerBound else { continue }
                guard rawSegment.firstSequence < segment.covered.upperBound else { break }
                if let frames = try frames(of: rawSegment, within: segment.covered) { raw.append(frames) }
            }
            _ = try repoint(index: index, segment: segment, catalog: catalog, work: work, raw: raw)
            rolled += 1
        }
        if rolled > 0 { logger.warning("compaction.rolled-forward", metadata: ["segments": "\(rolled)"]) }
        return rolled
    }

    /// The frames of a raw segment whose records lie in `range`, and their keys (LMDB form).
    static func frames(of segment: SegmentInfo, within range: Range<UInt64>) throws(StorageError) -> RawFrames? {
        guard let reader = try? SegmentReader(path: segment.path, segmentID: segment.id) else { return nil }
        let all: [SegmentFooter.FrameEntry]
        if let footer = reader.footer { all = footer.frames } else { all = try reader.scan().frames }
        let inside = all.filter { range.contains($0.firstSequence) }
        guard let first = inside.first, let last = inside.last else { return nil }
        var keys = KeySet()
        for frame in inside {
            _ = try? reader.readFrame(at: frame.offset) { _, record in
                record.forEachKey { space, key in keys.insert(space, key) }
            }
        }
        return RawFrames(locations: FrameLocation(segment: segment.id, offset: first.offset)...FrameLocation(segment: segment.id,
                                                                                                           offset: last.offset),
                         keys: keys.sorted())
    }

    /// `releaseCompacted` now, on the caller's thread (`wick compact` without a daemon).
    public func releaseCompactedNow() throws(StorageError) {
        try maintenance.withLock { (_) throws(StorageError) in try releaseCompacted() }
    }

    /// Deletes raw segments that compaction replaced once every cursor has passed them, oldest
    /// first; the index forgets each (synced) before its file goes. Runs with retention.
    func releaseCompacted() throws(StorageError) {
        let below = try index.meta(.compactedBelow) ?? 0
        guard below > 0 else { return }
        let slowest = try index.cursors().values.min() ?? 0
        let catalog = Dictionary(uniqueKeysWithValues: try index.segments().map { ($0.segmentID, $0) })
        for info in events.segments {
            guard info.sealed, let entry = catalog[info.id], entry.nextSequence <= below, entry.nextSequence <= slowest else { break }
            try index.environment.withWrite { (txn) throws(StorageError) in
                try index.removeSegment(info.id, txn: txn)
                if info.id + 1 > (try index.meta(.retiredBelow, txn: txn) ?? 0) {
                    try index.setMeta(.retiredBelow, info.id + 1, txn: txn)
                }
                try index.addMeta(.compactionReleasedSegments, 1, txn: txn)
            }
            try index.environment.sync()
            events.segmentRetired(info.id)
            try FileSystem.remove(info.path)
            try FileSystem.syncDirectory(events.directory)
            logger.info("compaction.released", metadata: ["segment.id": "\(info.id)"])
        }
    }
}

extension DataStore {
    /// Raw segments ready for compaction below `gate`, and their uncompressed bytes not compacted
    /// yet (for progress; a segment partly compacted counts in proportion).
    public func compactionBacklog(below gate: UInt64) throws(StorageError) -> (segments: Int, bytes: UInt64) {
        let from = compactedBelow
        var result: (segments: Int, bytes: UInt64) = (0, 0)
        for entry in try index.segments() where !CompactedSegments.contains(entry.segmentID) && entry.nextSequence > from {
            guard entry.kind == .raw, entry.sealed, entry.nextSequence <= gate else { break }
            result.segments += 1
            let span = entry.nextSequence - entry.firstSequence
            let left = entry.nextSequence - max(entry.firstSequence, from)
            result.bytes += span == 0 ? 0 : UInt64(Double(entry.uncompressedBytes) * Double(left) / Double(span))
        }
        return result
    }

    /// For each of `keys`, where its compacted records are (empty when it has none), in one read of
    /// the index. Only the index: never the log's tail.
    public func compactedLocations(_ keys: [IndexKey]) throws(StorageError) -> [[FrameLocation]] {
        try index.locations(keys, in: CompactedSegments.contains)
    }

    /// The records at `locations` (from ``compactedLocations(_:)``) that carry `key`, read through
    /// `open`: asked in location order, each frame is decompressed once however many of its
    /// documents are wanted (a compaction merging late scores into thousands of traces).
    public func compactedRecords(for key: IndexKey, at locations: [FrameLocation],
                                 through open: OpenSegments) throws(StorageError) -> [StoredRecord] {
        let segments = compaction.withLock { $0.segments }
        var result: [StoredRecord] = []
        for location in locations {
            guard let segment = segments.first(where: { $0.id == location.segment }), let reader = open.reader(segment) else {
                throw StorageError(code: .notFound, message: "no compacted segment \(location.segment)")
            }
            do {
                _ = try reader.readFrame(at: location.offset) { sequence, record in
                    if record.hasKey(key) { result.append(record.stored(sequence: sequence)) }
                }
            } catch let error as StorageError {
                throw error
            } catch {
                throw StorageError(code: .ioError, message: "\(error)")
            }
        }
        return result
    }
}
