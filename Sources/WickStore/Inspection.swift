/// What `wick inspect` shows: every segment with its size, records, compression and receive-time
/// range, from footers (sealed segments) or a frame walk (the active one).
public struct Inspection: Sendable {
    public struct Segment: Sendable {
        public var log: String
        public var id: UInt64
        public var kind: SegmentKind
        public var sealed: Bool
        public var fileBytes: Int64
        public var records: UInt64
        public var frames: Int
        public var uncompressedBytes: UInt64
        public var firstSequence: UInt64
        public var nextSequence: UInt64
        /// Receive-clock microseconds; nil for a segment without records.
        public var minReceiveTime: Int64?
        public var maxReceiveTime: Int64?
        public var createdAt: Int64

        public var compressionRatio: Double {
            fileBytes > 0 ? Double(uncompressedBytes) / Double(fileBytes) : 0
        }
    }

    public var directory: String
    public var daemonRunning: Bool
    public var segments: [Segment]
    public var indexHighWaterMark: UInt64?
    public var indexEntries: Int?
    public var indexProblem: String?
    public var cursors: [String: UInt64]
    public var meta: [String: UInt64]

    public static func make(_ store: StoreReader) throws(StorageError) -> Inspection {
        var segments: [Segment] = []
        for (name, directory) in [("events", store.directory.logDirectory), ("compacted", store.directory.compactedDirectory),
                                  ("dead-letter", store.directory.deadLetterDirectory)] {
            guard name != "compacted" || FileSystem.isDirectory(directory) else { continue }
            let infos = try LogDirectoryListing.segments(in: directory)
            for info in infos {
                guard let reader = try? SegmentReader(path: info.path, segmentID: info.id) else { continue }
                let frames: [SegmentFooter.FrameEntry]
                if let footer = reader.footer {
                    frames = footer.frames
                } else {
                    frames = try reader.scan(expectedFirstSequence: info.firstSequence).frames
                }
                segments.append(Segment(
                    log: name, id: info.id, kind: reader.header?.kind ?? .raw, sealed: reader.isSealed,
                    fileBytes: reader.fileSize, records: frames.reduce(0) { $0 + UInt64($1.recordCount) },
                    frames: frames.count, uncompressedBytes: frames.reduce(0) { $0 + UInt64($1.uncompressedLength) },
                    firstSequence: info.firstSequence,
                    nextSequence: frames.last.map { $0.firstSequence + UInt64($0.recordCount) } ?? info.firstSequence,
                    minReceiveTime: frames.map(\.minReceiveTime).min(), maxReceiveTime: frames.map(\.maxReceiveTime).max(),
                    createdAt: reader.header?.createdAt ?? 0))
            }
        }
        return Inspection(directory: store.directory.root, daemonRunning: store.directory.isLocked, segments: segments,
                          indexHighWaterMark: store.indexHighWaterMark, indexEntries: store.indexEntryCount(),
                          indexProblem: store.indexProblem, cursors: store.cursors(), meta: store.indexMeta())
    }
}
