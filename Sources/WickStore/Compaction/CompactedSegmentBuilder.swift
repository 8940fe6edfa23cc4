/// Writes one compacted segment in the staging directory, frame by frame as records come, so a
/// compaction holds one frame in memory, not its output. `DataStore.publish` makes it visible.
/// Owned by one thread.
public final class CompactedSegmentBuilder {
    public let id: UInt64
    /// The raw sequence numbers the segment replaces; its records are numbered from the first.
    public let covered: Range<UInt64>
    private let segment: ActiveSegment
    private var frame: FrameBuilder
    private let frameBytes: Int
    private let compressor: ZstdCompressor
    private var output: [UInt8] = []
    private var pendingFrames: [SegmentFooter.FrameEntry] = []
    private var nextSequence: UInt64
    /// Index entries of the new records (locations set as frames are placed).
    private(set) var work = IndexWork()
    private var finished = false
    /// The last piece written whose writeback was started but not waited for.
    private var unsynced: Range<Int64>?
    /// A record's project and key in the frame encoding (reused).
    private var metadata: [UInt8] = []

    init(directory: DataDirectory, id: UInt64, covered: Range<UInt64>, createdAt: Int64, frameBytes: Int,
         compressionLevel: Int32, wordCodedStreams: Set<UInt8>) throws(StorageError) {
        self.id = id
        self.covered = covered
        self.frameBytes = frameBytes
        try FileSystem.createDirectories(directory.compactedStagingDirectory)
        try FileSystem.remove(directory.compactedStagingDirectory + "/" + SegmentNaming.fileName(id))
        segment = try ActiveSegment.create(directory: directory.compactedStagingDirectory, id: id, kind: .compacted,
                                           firstSequence: covered.lowerBound, createdAt: createdAt,
                                           coveredEnd: covered.upperBound, faults: nil)
        frame = FrameBuilder(capacity: frameBytes, splitsRuns: true, wordCodedStreams: wordCodedStreams)
        compressor = ZstdCompressor(level: compressionLevel, frames: .compacted)
        nextSequence = covered.lowerBound
    }

    var path: String { segment.path }
    public var recordCount: UInt64 { nextSequence - covered.lowerBound }
    /// Bytes written so far (frames only until `finish`).
    public var fileBytes: Int64 { segment.size + Int64(output.count) }

    /// Adds records. A compaction writes at most one record per raw record it replaces.
    public func append(_ batch: RecordBatch) throws(StorageError) {
        precondition(!finished, "append after finish")
        try batch.bytes.withBytes { (raw) throws(StorageError) in
            var records = BatchRecordIterator(raw)
            while let record = records.next() {
                precondition(nextSequence < covered.upperBound, "more compacted records than the raw records they replace")
                if frame.isEmpty {
                    frame.begin(firstSequence: nextSequence, indexStart: work.entries.count)
                } else if frame.byteCount(adding: record) > frameBytes {
                    try finishFrame()
                    frame.begin(firstSequence: nextSequence, indexStart: work.entries.count)
                }
                frame.add(record)
                noteKeys(record)
                nextSequence += 1
            }
        }
        if output.count >= 4 << 20 { try flush() }
    }

    /// Adds one record with one key, keeping `runs` of its payload apart from the rest of the frame,
    /// each in the stream `streams` names for it (a document's prompts and completions in one, its
    /// ids in another: text beside text and ids beside ids compress better than interleaved).
    /// `runs` are sorted and disjoint; streams are below 8 and mean nothing to the store.
    public func append(kind: RecordKind, receiveTime: Int64, project: String, key: IndexKey, payload: UnsafeRawBufferPointer,
                       runs: [Range<Int>], streams: [UInt8]) throws(StorageError) {
        precondition(!finished, "append after finish")
        precondition(nextSequence < covered.upperBound, "more compacted records than the raw records they replace")
        precondition(project.utf8.count <= RecordBatch.maxProjectBytes && key.bytes.count <= RecordBatch.maxKeyBytes,
                     "project or key longer than a record holds")
        metadata.removeAll(keepingCapacity: true)
        var project = project
        project.withUTF8 { name in
            metadata.appendVarint(name.count)
            metadata.append(contentsOf: name)
        }
        metadata.append(key.space.rawValue)
        metadata.appendVarint(key.bytes.count)
        metadata.append(contentsOf: key.bytes)
        let size = payload.count + metadata.count + 14 + 3 * runs.count
        if frame.isEmpty {
            frame.begin(firstSequence: nextSequence, indexStart: work.entries.count)
        } else if frame.byteCount + size > frameBytes {
            try finishFrame()
            frame.begin(firstSequence: nextSequence, indexStart: work.entries.count)
        }
        metadata.withUnsafeBytes {
            frame.add(kind: kind.rawValue, keyCount: 1, receiveTime: receiveTime, metadata: $0, payload: payload, runs: runs, streams: streams)
        }
        key.bytes.withUnsafeBytes { bytes in
            if !work.lastEntryMatches(space: key.space, key: bytes, since: frame.indexStart) {
                work.add(space: key.space, key: bytes, location: FrameLocation(segment: 0, offset: 0))
            }
            segment.noteKey(key.space, hash: keyHash(bytes))
        }
        nextSequence += 1
        if output.count >= 1 << 20 { try flush() }
    }

    /// Writes the last frame and the footer, and syncs.
    func finish() throws(StorageError) {
        guard !finished else { return }
        if !frame.isEmpty { try finishFrame() }
        try flush()
        try segment.seal()
        finished = true
    }

    func catalogEntry() -> CatalogEntry {
        segment.catalogEntry(sealed: true)
    }

    private func noteKeys(_ record: BatchRecord) {
        record.forEachKey { space, key in
            if !work.lastEntryMatches(space: space, key: key, since: frame.indexStart) {
                work.add(space: space, key: key, location: FrameLocation(segment: 0, offset: 0))
            }
            segment.noteKey(space, hash: keyHash(key))
        }
    }

    private func finishFrame() throws(StorageError) {
        let offset = segment.size + Int64(output.count)
        let start = frame.indexStart
        let header = try frame.finish(into: &output, compressor: compressor)
        work.setLocation(FrameLocation(segment: id, offset: offset), from: start)
        pendingFrames.append(SegmentFooter.FrameEntry(
            offset: offset, firstSequence: header.firstSequence, recordCount: header.recordCount,
            payloadLength: header.payloadLength, uncompressedLength: header.uncompressedLength,
            minReceiveTime: header.minReceiveTime, maxReceiveTime: header.maxReceiveTime))
    }

    private func flush() throws(StorageError) {
        guard !output.isEmpty else { return }
        let offset = segment.size
        try segment.append(output, frames: pendingFrames)
        // Written back as it goes, at most two pieces in flight: on ext4 a journal commit (the
        // daemon's group commits sync) also writes out other files' dirty pages, so a compaction's
        // file written whole and synced at the end holds acknowledgements up (BENCHMARKS.md,
        // Compaction: with the data directory on tmpfs, compacting costs ingest nothing).
        segment.startWriteback(from: offset)
        if let previous = unsynced { segment.finishWriteback(previous) }
        unsynced = offset..<segment.size
        output.removeAll(keepingCapacity: true)
        pendingFrames.removeAll(keepingCapacity: true)
    }
}

@available(*, unavailable)
extension CompactedSegmentBuilder: Sendable {}
