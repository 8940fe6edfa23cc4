/// A data directory opened for reading, beside a running daemon or without one. Opens the index
/// read-only when it exists (LMDB allows concurrent readers in other processes); without it, falls
/// back to reading segments.
public final class StoreReader {
    public let directory: DataDirectory
    let index: IndexStore?
    /// Why the index could not be used, when it could not.
    public let indexProblem: String?

    /// `openingIndex: false` reads segments only: what the process that holds the `DataStore` may
    /// use (LMDB must not be opened twice in one process).
    public init(_ directory: DataDirectory, openingIndex: Bool = true) throws(StorageError) {
        self.directory = directory
        guard directory.exists else {
            throw StorageError(code: .notFound, message: "no data directory at \(directory.root)")
        }
        if !openingIndex {
            index = nil
            indexProblem = "not opened"
        } else if FileSystem.exists(directory.indexPath) {
            do {
                index = try IndexStore(path: directory.indexPath, readOnly: true, initialMapSize: 0)
                indexProblem = nil
            } catch {
                index = nil
                indexProblem = "\(error)"
            }
        } else {
            index = nil
            indexProblem = "no index file"
        }
    }

    /// What the listing found out about sealed segments (immutable once sealed): a long-lived
    /// reader opens each once to list it.
    private var sealedSegments: [UInt64: SegmentInfo] = [:]
    /// Readers of sealed segments, kept from one lookup to the next (a footer decoded once). Each
    /// holds a file and a frame's buffers, so at most `maxSealedReaders` are kept.
    private var sealedReaders: [UInt64: SegmentReader] = [:]
    static let maxSealedReaders = 64

    /// The event log's segments on disk, oldest first.
    public func segments() throws(StorageError) -> [SegmentInfo] {
        let ids = try SegmentNaming.segmentIDs(in: directory.logDirectory)
        var result: [SegmentInfo] = []
        result.reserveCapacity(ids.count)
        for (position, id) in ids.enumerated() {
            if let info = sealedSegments[id] {
                result.append(info)
            } else if let (info, reader) = LogDirectoryListing.segment(id, in: directory.logDirectory,
                                                                        newest: position == ids.count - 1) {
                result.append(info)
                if reader.isSealed {
                    sealedSegments[id] = info
                    keep(reader, for: id)
                }
            }
        }
        // Retention deletes whole segments: what was known of them goes too.
        if sealedSegments.count > ids.count {
            let present = Set(ids)
            sealedSegments = sealedSegments.filter { present.contains($0.key) }
            sealedReaders = sealedReaders.filter { present.contains($0.key) }
        }
        return result
    }

    private func keep(_ reader: SegmentReader, for id: UInt64) {
        if sealedReaders.count >= Self.maxSealedReaders, let oldest = sealedReaders.keys.min() {
            sealedReaders[oldest] = nil
        }
        sealedReaders[id] = reader
    }

    private func reader(for segment: SegmentInfo) -> SegmentReader? {
        if let cached = sealedReaders[segment.id] { return cached }
        guard let reader = try? SegmentReader(path: segment.path, segmentID: segment.id) else { return nil }
        if sealedSegments[segment.id] != nil && reader.isSealed { keep(reader, for: segment.id) }
        return reader
    }

    public func deadLetterSegments() throws(StorageError) -> [SegmentInfo] {
        try LogDirectoryListing.segments(in: directory.deadLetterDirectory)
    }

    public var indexHighWaterMark: UInt64? {
        try? index?.highWaterMark()
    }

    public func cursors() -> [String: UInt64] {
        (try? index?.cursors()) ?? [:]
    }

    public func indexMeta() -> [String: UInt64] {
        guard let index else { return [:] }
        var result: [String: UInt64] = [:]
        for key in IndexStore.MetaKey.allCases {
            if let value = try? index.meta(key) { result[key.rawValue] = value }
        }
        return result
    }

    /// Number of (key, frame) entries in the index.
    public func indexEntryCount() -> Int? {
        try? index?.entryCount()
    }

    /// Records that carry `key`: raw events, and compacted records in place of those they replaced.
    public func records(for key: IndexKey) throws(StorageError) -> [StoredRecord] {
        if let records = try keyLookup().records(for: key) { return records }
        return try keyLookup().records(for: key) ?? []
    }

    public func locations(for key: IndexKey) throws(StorageError) -> [FrameLocation] {
        try keyLookup().locations(for: key)
    }

    private func keyLookup() throws(StorageError) -> KeyLookup {
        var lookup = KeyLookup(index: index, segments: try segments(), highWaterMark: 0)
        lookup.compacted = CompactedSegments.infos(in: directory)
        lookup.open = { [unowned self] in self.reader(for: $0) }
        guard let index else { return lookup }
        // The high-water mark and the catalog are read in one transaction: the catalog's unsealed
        // entry then ends exactly where the mark does.
        let (mark, catalog) = (try? index.highWaterMarkAndCatalog()) ?? (0, [])
        lookup.highWaterMark = mark
        if let open = catalog.last(where: { !$0.sealed && $0.kind == .raw }), open.nextSequence == mark {
            lookup.indexedEnd = (open.segmentID, open.fileBytes)
        }
        return lookup
    }

    /// The records of one frame of the event log, checksum verified.
    public func records(at location: FrameLocation) throws(StorageError) -> [StoredRecord] {
        try KeyLookup.records(at: location, in: segments() + CompactedSegments.infos(in: directory))
    }

    /// The compacted segments on disk, oldest first.
    public func compactedSegments() throws(StorageError) -> [CompactedSegment] {
        try CompactedSegments.list(in: directory)
    }

    /// Every record of a compacted segment, in order (damaged frames skipped; `wick verify` reports them).
    public func readRecords(of segment: CompactedSegment, _ body: (UInt64, RecordView) throws -> Void) throws {
        let reader = try SegmentReader(path: segment.info.path, segmentID: segment.info.id)
        for frame in reader.footer?.frames ?? [] {
            do {
                _ = try reader.readFrame(at: frame.offset, body)
            } catch let error as StorageError where error.code == .checksumMismatch || error.code == .corruptSegment {
                continue
            }
        }
    }

    /// The sequence number the next event will get: from the index's catalog, or by walking the
    /// newest segment when there is no index.
    public func logEnd() throws(StorageError) -> UInt64 {
        // The catalog lists compacted segments too, after the log's (their ids start at 2^63), each
        // numbering its own records: the log's end is its newest raw segment's.
        if let index, let last = try? index.segments().last(where: { !CompactedSegments.contains($0.segmentID) }) {
            return last.nextSequence
        }
        guard let lastSegment = try segments().last else { return 1 }
        let reader = try SegmentReader(path: lastSegment.path, segmentID: lastSegment.id)
        var frames = reader.footer?.frames
        if frames == nil { frames = try reader.scan(expectedFirstSequence: lastSegment.firstSequence).frames }
        let last = frames?.last
        return last.map { $0.firstSequence + UInt64($0.recordCount) } ?? lastSegment.firstSequence
    }

    /// A sequential reader of the event log.
    public func eventReader() -> LogReader {
        LogReader(directory: directory.logDirectory)
    }

    public func deadLetterReader() -> LogReader {
        LogReader(directory: directory.deadLetterDirectory)
    }
}

/// Not Sendable: it borrows buffers (or holds file handles) owned by one thread.
@available(*, unavailable)
extension StoreReader: Sendable {}
