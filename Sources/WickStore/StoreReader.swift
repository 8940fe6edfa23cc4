/// A data directory opened for reading, beside a running daemon or without one. Opens the index
/// read-only when it exists (LMDB allows concurrent readers in other processes); without it, falls
/// back to reading segments.
public final class StoreReader {
    public let directory: DataDirectory
    let index: IndexStore?
    /// Why the index could not be used, when it could not.
    public let indexProblem: String?

    public init(_ directory: DataDirectory) throws(StorageError) {
        self.directory = directory
        guard directory.exists else {
            throw StorageError(code: .notFound, message: "no data directory at \(directory.root)")
        }
        if FileSystem.exists(directory.indexPath) {
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

    /// The event log's segments on disk, oldest first.
    public func segments() throws(StorageError) -> [SegmentInfo] {
        try LogDirectoryListing.segments(in: directory.logDirectory)
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

    /// Records of the event log that carry `key`.
    public func records(for key: IndexKey) throws(StorageError) -> [StoredRecord] {
        try keyLookup().records(for: key)
    }

    public func locations(for key: IndexKey) throws(StorageError) -> [FrameLocation] {
        try keyLookup().locations(for: key)
    }

    private func keyLookup() throws(StorageError) -> KeyLookup {
        var lookup = KeyLookup(index: index, segments: try segments(), highWaterMark: 0)
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
        try KeyLookup.records(at: location, in: segments())
    }

    /// The sequence number the next event will get: from the index's catalog, or by walking the
    /// newest segment when there is no index.
    public func logEnd() throws(StorageError) -> UInt64 {
        if let index, let last = try? index.segments().last {
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
